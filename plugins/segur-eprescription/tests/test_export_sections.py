"""The e-prescription part of the portability export, read from the journal: the
prescriptions read for a patient and the dispensations reported, with the sandbox
service answering and the outbox sending."""

from __future__ import annotations

import datetime as dt

import pytest
from segur_eprescription.dispensation import Decision, LineDecision
from segur_eprescription.models import Product, ProductKind
from segur_eprescription.service import service_for

from segur_core.model import INS, BirthDate, Identity, IdentityStatus, IdentityTraits, Patient
from segur_core.testing.export import section_records

THREE_LINES = "SBX000000000000001"
GENERIC = Product(
    ProductKind.CIP13, "PARACETAMOL MYLAN 500 mg, comprimé", code="3400933516390",
    system="1.2.250.1.213.2.3.2",
)  # fmt: skip


@pytest.fixture
def runtime(make_segur_runtime):
    return make_segur_runtime(autoload=True, plugins=["eprescription"])


def _patient(runtime, pid="P-ERX", ins="279035121518989"):
    traits = IdentityTraits("SANDBOX", ("CAMILLE",), "F", BirthDate(1979, 3, 28))
    identity = Identity(
        traits, status=IdentityStatus.QUALIFIED, ins=INS(ins, "1.2.250.1.213.1.4.10")
    )
    return runtime.host.save_patient(Patient(pid, identity))


def _sections(runtime, patient_id, since=None) -> dict[str, list]:
    return section_records(runtime, patient_id, ("epread", "epdisp"), since)


def test_a_read_and_reported_prescription_is_exported(runtime):
    patient = _patient(runtime)
    other = _patient(runtime, "P-OTHER", "180012B01234543")
    service = service_for(runtime)
    fetched = service.fetch(THREE_LINES)
    done = service.dispense(
        fetched,
        [LineDecision(1, Decision.SUBSTITUTED, product=GENERIC),
         LineDecision(3, Decision.NOT_DELIVERED, reason="refus")],
        build_document=False,
    )  # fmt: skip
    queued = _sections(runtime, patient.id)
    [read] = queued["epread"]
    assert (read["prescription"], read["done"], read["allowed"]) == (
        THREE_LINES,
        fetched.done,
        fetched.allowed,
    )
    assert read["done"] == 0  # none yet: a negative answer, not an absent one
    [reported] = queued["epdisp"]
    assert (reported["report"], reported["delivery"], reported["ack"]) == (
        done.report.report_id,
        "pending",
        None,  # not yet: not filled in
    )
    assert reported["decisions"] == [str(line.decision) for line in done.report.lines]
    assert reported["partial"] is done.report.partial

    assert runtime.outbox.run_until_idle(timeout=20)
    [sent] = _sections(runtime, patient.id)["epdisp"]
    assert sent["delivery"] == "delivered" and sent["ack"] and sent["acknowledged_at"]
    assert sent["attempts"] == 1

    assert _sections(runtime, other.id) == {"epread": [], "epdisp": []}
    assert all(s.name not in ("epread", "epdisp") for s in runtime.export_sections(None))
    later = max(r.at for r in runtime.journal.records()) + dt.timedelta(microseconds=1)
    assert _sections(runtime, patient.id, since=later) == {"epread": [], "epdisp": []}
