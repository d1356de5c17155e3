"""An INSi answer whose INS key does not check (CNDA case "clé erronée", HERMANN GATIEN)
is never adopted, never qualifies an identity and is never shared; the pharmacist is told.

Through the real INSi sandbox, which serves the CNDA data as it is."""

from __future__ import annotations

import pytest
from segur_ins import status
from segur_ins.datamatrix import payload_for
from segur_ins.nir import Nir
from segur_ins.plugin import service
from segur_ins.sandbox.persons import CNDA_PERSONS

from segur_core.errors import IdentityError
from segur_core.model import Identity, IdentityStatus, Patient

from . import test_wiring as wiring
from .test_wiring import _reading

runtime, decisions, identified = wiring.runtime, wiring.decisions, wiring.identified

HERMANN = next(p for p in CNDA_PERSONS if p.birth_name == "HERMANN")
ADRUN = CNDA_PERSONS[0]
S = IdentityStatus


def _refusals(runtime, patient_id):
    return [
        r
        for r in runtime.journal.records(patient_id=patient_id)
        if r.action == "ins.qualify" and r.outcome == "refused"
    ]


def test_the_sandbox_serves_hermann_with_his_wrong_key(runtime):
    result = service(runtime).search(traits=HERMANN.traits())
    assert result.found and result.identity.ins == HERMANN.ins()
    key_ok = Nir.parse(result.identity.ins.matricule, verify_key=False).key_ok
    assert not key_ok  # the answer is read, not rejected


def test_qualify_a_validated_identity_never_makes_it_qual(runtime, decisions):
    validated = Identity(traits=HERMANN.traits(), status=S.VALIDATED)
    patient = runtime.host.save_patient(Patient(id="", identity=validated))
    outcome = service(runtime).qualify(patient)
    assert outcome.result == "ins-key"
    stored = runtime.host.get_patient(patient.id)
    assert (stored.identity.status, stored.identity.ins) == (S.VALIDATED, None)
    assert runtime.shareable_ins(stored) is None
    assert decisions.kinds() == ["ins.wrong-key"]
    (refusal,) = _refusals(runtime, patient.id)
    assert "key" in refusal.details["reason"]
    assert HERMANN.nir not in str(refusal.details)


def test_batch_settles_it_without_asking(runtime, decisions):
    patient = runtime.host.save_patient(Patient(id="", identity=Identity(HERMANN.traits())))
    ins = service(runtime)
    (outcome,) = ins.settle([(patient, ins.lookup(traits=patient.identity.traits))])
    assert (outcome.result, outcome.code) == ("ins-key", "00")
    assert runtime.host.get_patient(patient.id).identity.status is S.PROVISIONAL
    assert decisions.kinds() == [] and len(_refusals(runtime, patient.id)) == 1


@pytest.mark.parametrize("source", ["apcv", "vitale-card", "manual"])
def test_card_reading_of_hermann_is_never_qualified(runtime, decisions, identified, source):
    runtime.card_read(_reading(HERMANN, source=source, nir=source != "manual"))
    (patient,) = runtime.host.find_patients(birth_name="HERMANN")
    # appli carte Vitale validates the identity (a document check), INSi adds nothing
    expected = S.VALIDATED if source == "apcv" else S.PROVISIONAL
    assert (patient.identity.status, patient.identity.ins) == (expected, None)
    assert runtime.shareable_ins(patient) is None
    assert "ins.wrong-key" in decisions.kinds()
    assert [i.status for _, i, _ in identified] == [expected]  # announced once, unqualified


def test_a_stored_qual_identity_with_a_wrong_key_is_never_shared(runtime):
    # as stored before keys were checked, or imported: QUAL with HERMANN's INS
    identity = Identity(traits=HERMANN.traits(), status=S.QUALIFIED, ins=HERMANN.ins())
    patient = runtime.host.save_patient(Patient(id="", identity=identity))
    assert status.shareable_ins(identity) is None
    assert runtime.shareable_ins(patient) is None
    with pytest.raises(IdentityError):
        payload_for(identity)
    good = Identity(traits=ADRUN.traits(), status=S.QUALIFIED, ins=ADRUN.ins())
    assert status.shareable_ins(good) == ADRUN.ins()


def test_the_status_machine_refuses_a_wrong_key():
    before = Identity(traits=HERMANN.traits(), status=S.VALIDATED)
    with pytest.raises(IdentityError) as caught:
        status.apply(before, status.InsiRetrieved(HERMANN.ins(), HERMANN.traits()))
    assert type(caught.value).__name__ == "InsKeyError"
    assert HERMANN.nir not in str(caught.value)
