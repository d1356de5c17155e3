"""MSSanté's part of the portability export, through the real mail server: a document
received for a patient, a message sent about them to a professional and its delivery
status notification, read back from the journal and the status store."""

from __future__ import annotations

import datetime as dt
import time

from segur_mssante.sandbox.tokens import SandboxTokens
from segur_mssante.service import service_for
from segur_mssante.testing import sandbox_table

from segur_core.model import INS, Identity, IdentityStatus, IdentityTraits, Patient
from segur_core.testing.export import section_records

XSD_ONLY = {"documents": {"schematron": False}}
SECTIONS = ("msssent", "mssrecv")


def _configured(make_segur_runtime, sandbox, address, kind):
    runtime = make_segur_runtime(
        autoload=True,
        plugins=["ins", "documents", "mss"],
        config={**XSD_ONLY, "mss": sandbox_table(sandbox, address, kind)},
    )
    service = service_for(runtime)
    service.tokens = SandboxTokens(sandbox.tokens)
    return runtime, service


def _patient(runtime, ins: str | None, name: str) -> Patient:
    traits = IdentityTraits(birth_name=name, first_names="MARIE", sex="F", birth_date="1979-03-05")
    status = IdentityStatus.QUALIFIED if ins else IdentityStatus.PROVISIONAL
    identity = Identity(
        traits=traits, status=status, ins=INS(ins, "1.2.250.1.213.1.4.10") if ins else None
    )
    return runtime.host.save_patient(Patient(id="", identity=identity))


def _sections(runtime, patient_id, since=None) -> dict[str, list]:
    return section_records(runtime, patient_id, SECTIONS, since)


def _until(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_messages_received_and_sent_with_their_outcome(
    make_segur_runtime, mail_sandbox, vaccination_cda
):
    pharmacy = "officine.export@pharmacie.mssante.test"
    doctor = "dr.export@medecin.mssante.test"
    doctor_rt, doctor_mss = _configured(make_segur_runtime, mail_sandbox, doctor, "PER")
    doctor_mss.send_document(vaccination_cda, to=[pharmacy])
    assert doctor_rt.outbox.run_until_idle(timeout=30)

    runtime, service = _configured(make_segur_runtime, mail_sandbox, pharmacy, "APP")
    patient = _patient(runtime, "279035121518989", "EXEMPLE")
    nobody = _patient(runtime, None, "AUTRE")
    [fetched] = _until(service.fetch)
    [received] = _sections(runtime, patient.id)["mssrecv"]
    [document] = runtime.host.list_documents(patient.id)
    assert (received["kind"], received["document"], received["message_id"]) == (
        "document",
        document.id,
        fetched.message_id,
    )
    assert received["checks"] in ("valid", "invalid") and received["parts"] is None

    # the pharmacy forwards the note to another physician: no patient given, the
    # message is the patient's all the same (the host knows the document's patient)
    other = "dr.other@medecin.mssante.test"
    queued = service.send_document(document.content, to=[other])
    [pending] = _sections(runtime, patient.id)["msssent"]
    assert (pending["message_id"], pending["document"], pending["submission"]) == (
        queued.message_id,
        document.id,
        "pending",
    )
    assert [
        (r["address"], r["mailbox"], r["state"], r["detail"]) for r in pending["recipients"]
    ] == [
        (other, "professional", "queued", None)  # no report yet: not filled in
    ]
    assert runtime.outbox.run_until_idle(timeout=30)
    _until(lambda: service.fetch() and service.status.of(queued.message_id)[0].state != "queued")
    [sent] = _sections(runtime, patient.id)["msssent"]
    assert sent["submission"] == "delivered" and sent["document_type"] == "87273-9"
    [recipient] = sent["recipients"]
    assert (recipient["state"], recipient["detail"]) == ("delivered", "2.0.0")

    assert _sections(runtime, nobody.id) == {"msssent": [], "mssrecv": []}
    assert all(s.name not in SECTIONS for s in runtime.export_sections(None))
    later = max(r.at for r in runtime.journal.records()) + dt.timedelta(microseconds=1)
    assert _sections(runtime, patient.id, since=later) == {"msssent": [], "mssrecv": []}
