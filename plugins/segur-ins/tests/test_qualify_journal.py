"""A qualification journals the INSi call and the identity change it causes together."""

from __future__ import annotations

import pytest
from segur_ins.plugin import service
from segur_ins.sandbox.persons import CNDA_PERSONS

from segur_core.model import Identity, IdentityStatus, Patient


def _stored(runtime, person):
    return runtime.host.save_patient(Patient(id="", identity=Identity(traits=person.traits())))


def test_call_and_change_are_consecutive_records_of_one_transaction(make_segur_runtime):
    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    patient = _stored(runtime, CNDA_PERSONS[0])
    outcome = service(runtime).qualify(patient, interactive=False)
    assert outcome.result == "qualified"
    search, change = runtime.journal.records(patient_id=patient.id)[-2:]
    assert (search.action, change.action) == ("insi.search", "ins.identity")
    assert change.seq == search.seq + 1 and change.prev_hash == search.hash
    assert change.at == search.at  # written together
    assert change.details["message_id"] == search.details["message_id"]
    assert runtime.journal.verify().ok


def test_the_call_is_journaled_even_when_saving_the_change_fails(make_segur_runtime):
    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    patient = _stored(runtime, CNDA_PERSONS[0])
    ins = service(runtime)

    class Broken(RuntimeError):
        pass

    def broken_save(_patient):
        raise Broken("disk full")

    host = runtime.host
    original = type(host).save_patient
    type(host).save_patient = lambda self, p: broken_save(p)
    try:
        with pytest.raises(Broken):
            ins.qualify(patient, interactive=False)
    finally:
        type(host).save_patient = original
    records = runtime.journal.records(patient_id=patient.id)
    assert [r.action for r in records] == ["insi.search"]
    assert records[0].details["cr"] == "00"
    assert runtime.host.get_patient(patient.id).identity.status is IdentityStatus.PROVISIONAL
