"""Every access to the DMP leaves a journal record, also when it is refused or fails."""

from __future__ import annotations

import uuid

import pytest
from segur_dmp.errors import AccessRefused
from segur_dmp.service import service_for
from segur_dmp.testing import KIT_INS

from segur_core.errors import SegurError
from segur_core.model import (
    BirthDate,
    Consent,
    Identity,
    IdentityStatus,
    IdentityTraits,
    Patient,
    Sex,
)


def _patient(status: IdentityStatus = IdentityStatus.QUALIFIED) -> Patient:
    traits = IdentityTraits(
        "PAT-TROIS", ("DOMINIQUE", "MARIE-LOUISE"), Sex.FEMALE, BirthDate(1979, 3, 28), "63220"
    )
    return Patient(f"P{uuid.uuid4().hex[:8]}", Identity(traits, status, KIT_INS))


@pytest.fixture
def runtime(make_segur_runtime):
    return make_segur_runtime(autoload=True, plugins=["ins", "dmp"])


def test_refused_and_failing_accesses_are_journaled(runtime):
    service = service_for(runtime)

    def last(pid: str):
        records = runtime.journal.records(patient_id=pid)
        assert records, "no journal record for this patient"
        return records[-1]

    unqualified = runtime.host.save_patient(_patient(IdentityStatus.RECOVERED))
    with pytest.raises(AccessRefused):
        service.list(unqualified.id)
    record = last(unqualified.id)
    assert (record.action, record.service, record.outcome) == ("dmp.list", "dmp", "refused")
    assert record.details.get("reason") == "NO_INS"

    p = runtime.host.save_patient(_patient())
    runtime.host.record_consent(Consent(p.id, "dmp-access", True))
    with pytest.raises(AccessRefused):
        service.delete(p.id, "2.25.1")  # not one of this pharmacy's documents
    record = last(p.id)
    assert (record.action, record.outcome) == ("dmp.delete", "refused")
    assert record.details == {"reason": "NOT_OWNER", "document": "2.25.1"}

    with pytest.raises(SegurError):
        service.get(p.id, "2.25.404")  # not in the DMP: the retrieve fails
    record = last(p.id)
    assert record.action == "dmp.retrieve" and record.outcome == "error"
    assert record.details.get("document") == "2.25.404"
    # the patient is in patient_id only, never in the details
    for r in runtime.journal.records():
        assert KIT_INS.matricule not in repr(r.details)
