"""Receiving: every official archive is integrated for the right patient and type; an
unknown patient is an outcome; hostile archives and malformed MIME are refused with
nothing stored; fetched messages are flagged and never imported twice."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from segur_documents.renderings import RenderingStore
from segur_documents.testing import rendering_unavailable
from segur_mssante.errors import MessageError, XDMError
from segur_mssante.receive import IMPORTED, UNKNOWN_PATIENT, parse_message
from segur_mssante.service import IMPORTED_FLAG, REJECTED, SEEN, UNMATCHED, service_for

from segur_core.errors import InputError, UnsafeZipError
from segur_core.model import INS, Identity, IdentityStatus, IdentityTraits, Patient
from segur_core.xdm import read_xdm

XDM_EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "xdm"
#: Received CDA checked by structure and XSD only: the schematrons' cost is paid once,
#: in test_kit.py.
XSD_ONLY = {"documents": {"schematron": False}}


def _examples() -> list[Path]:
    found = sorted(XDM_EXAMPLES.glob("*.zip")) if XDM_EXAMPLES.is_dir() else []
    if not found:
        pytest.skip(f"the official XDM examples are not in {XDM_EXAMPLES}")
    return found


def _patient(runtime, ins: INS, name: str = "EXEMPLE") -> Patient:
    traits = IdentityTraits(birth_name=name, first_names="MARIE", sex="F", birth_date="1979-03-05")
    identity = Identity(traits=traits, status=IdentityStatus.QUALIFIED, ins=ins)
    return runtime.host.save_patient(Patient(id="", identity=identity))


@pytest.fixture
def runtime(make_segur_runtime):
    return make_segur_runtime(
        autoload=True, plugins=["ins", "documents", "example", "mss"], config=XSD_ONLY
    )


def test_every_official_archive_is_integrated(runtime):
    from segur_example.plugin import counter

    service = service_for(runtime)
    patients: dict[INS, Patient] = {}
    for path in _examples():
        data = path.read_bytes()
        archive = read_xdm(data)
        if archive.ins not in patients:  # several examples are about the same person
            patients[archive.ins] = _patient(runtime, archive.ins)
        patient = patients[archive.ins]
        report = service.import_archive(data, sender="dr@medecin.mssante.fr")
        (outcome,) = report.documents
        assert outcome.outcome == IMPORTED, path.name
        assert outcome.patient_id == patient.id
        stored = runtime.host.get_document(outcome.document_id)
        assert stored.patient_id == patient.id and stored.status == "received"
        assert stored.type_code == archive.documents[0].type_code
        # a structured document's PDF/A rendering is kept as it is integrated
        kept = RenderingStore.of(runtime).get(stored.content)
        if b"nonXMLBody" in stored.content or rendering_unavailable():
            assert kept is None, path.name
        else:
            assert kept is not None and kept.startswith(b"%PDF-1.4"), path.name
        # twice: nothing stored or announced again
        again = service.import_archive(data)
        assert again.documents[0].outcome == "already-imported"
    assert counter(runtime).snapshot().get("document_received") == len(_examples())


def test_unknown_patient_is_an_outcome(runtime):
    path = _examples()[0]
    report = service_for(runtime).import_archive(path.read_bytes())
    assert [d.outcome for d in report.documents] == [UNKNOWN_PATIENT]
    assert not report.complete


def test_hostile_or_empty_archive_stores_nothing(runtime):
    import io
    import zipfile

    path = _examples()[0]
    patient = _patient(runtime, read_xdm(path.read_bytes()).ins)
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(path.read_bytes())) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for name in source.namelist():
            target.writestr(name, source.read(name))
        target.writestr("../../evil.sh", b"#!/bin/sh\n")
    with pytest.raises(UnsafeZipError):
        service_for(runtime).import_archive(buffer.getvalue())
    with pytest.raises(XDMError):  # an empty archive: no METADATA.XML
        service_for(runtime).import_archive(b"PK\x05\x06" + b"\0" * 18)
    assert runtime.host.list_documents(patient.id) == []


def test_metadata_and_cda_must_agree_on_the_patient(runtime, vaccination_cda):
    import io
    import zipfile

    from segur_core.xdm import Issuer, write_xdm

    data = write_xdm([vaccination_cda], issuer=Issuer("1", "X"), source_id="1.2.3")
    members = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    meta = "IHE_XDM/SUBSET01/METADATA.XML"
    members[meta] = members[meta].replace(b"279035121518989", b"180037512345678")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for n, v in members.items():
            z.writestr(n, v)
    _patient(runtime, INS("180037512345678", "1.2.250.1.213.1.4.10"))
    with pytest.raises(XDMError, match="differ"):
        service_for(runtime).import_archive(buffer.getvalue())


def test_malformed_mime_is_a_typed_error():
    with pytest.raises(MessageError):
        parse_message(b"x" * (49 * 1024 * 1024))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_fail_typed(data):
    with contextlib.suppress(InputError):
        parse_message(data)


def test_fetch_integrates_flags_and_never_twice(make_segur_runtime, mail_sandbox, vaccination_cda):
    """A physician sends the vaccination note to the pharmacy's mailbox; the pharmacy
    fetches it, stores it for the patient, flags it; a second fetch finds nothing."""
    from segur_example.plugin import counter
    from segur_mssante.sandbox.tokens import SandboxTokens
    from segur_mssante.testing import sandbox_table

    def configured(address, kind):
        runtime = make_segur_runtime(
            autoload=True,
            plugins=["ins", "documents", "example", "mss"],
            config={**XSD_ONLY, "mss": sandbox_table(mail_sandbox, address, kind)},
        )
        service = service_for(runtime)
        service.tokens = SandboxTokens(mail_sandbox.tokens)
        return runtime, service

    pharmacy = "officine.fetch@pharmacie.mssante.test"
    doctor_rt, doctor = configured("dr.fetch@medecin.mssante.test", "PER")
    first = doctor.send_document(vaccination_cda, to=[pharmacy], read_receipt=True)
    doctor.send_document(vaccination_cda, to=[pharmacy])  # the same document twice
    assert doctor_rt.outbox.run_until_idle(timeout=30)

    runtime, service = configured(pharmacy, "APP")
    patient = _patient(runtime, INS("279035121518989", "1.2.250.1.213.1.4.10"))
    import time

    outcomes = []
    deadline = time.monotonic() + 10
    while len(outcomes) < 2 and time.monotonic() < deadline:
        outcomes += service.fetch()
    assert [o.flag for o in outcomes] == [IMPORTED_FLAG, IMPORTED_FLAG]
    assert [d.outcome for o in outcomes for r in o.reports for d in r.documents] == [
        IMPORTED,
        "already-imported",
    ]
    assert len(runtime.host.list_documents(patient.id)) == 1
    assert counter(runtime).snapshot().get("document_received") == 1
    assert service.fetch() == []  # flagged: never handled again
    # the read receipt asked for the first message went back to the physician
    assert runtime.outbox.run_until_idle(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        doctor.fetch()
        if [s.state for s in doctor.status.of(first.message_id)] == ["read"]:
            break
    (status,) = doctor.status.of(first.message_id)
    assert (status.recipient, status.state) == (pharmacy, "read")
    assert {UNMATCHED, REJECTED, SEEN}.isdisjoint(o.flag for o in outcomes)


def test_a_patients_photo_is_kept_through_the_host_once(make_segur_runtime, mail_sandbox):
    """A patient writes to the pharmacy's organisational mailbox with a photo of a
    prescription: the message is kept as received, for that patient, flagged, once; its
    read receipt is answered."""
    import time

    from segur_mssante.receive import message_key, parse_message
    from segur_mssante.sandbox.tokens import SandboxTokens
    from segur_mssante.testing import sandbox_table, send_as_patient

    pharmacy = "officine.photo@pharmacie.mssante.test"
    runtime = make_segur_runtime(
        autoload=True,
        plugins=["ins", "documents", "mss"],
        config={**XSD_ONLY, "mss": sandbox_table(mail_sandbox, pharmacy, "ORG")},
    )
    service = service_for(runtime)
    service.tokens = SandboxTokens(mail_sandbox.tokens)
    patient = _patient(runtime, INS("279035121518989", "1.2.250.1.213.1.4.10"))
    raw = send_as_patient(mail_sandbox, "279035121518989", pharmacy, "<photo-1@patient.test>")

    outcomes = []
    deadline = time.monotonic() + 10
    while not outcomes and time.monotonic() < deadline:
        outcomes = service.fetch()
    (outcome,) = outcomes
    assert (outcome.flag, outcome.reason) == (IMPORTED_FLAG, "kept (no archive)")
    kept = runtime.host.get_message(outcome.kept)
    assert outcome.kept == message_key(raw, parse_message(raw))
    assert kept.patient_id == patient.id and kept.subject == "Mon ordonnance"
    assert kept.text.startswith("Bonjour, voici mon ordonnance")
    ((name, media_type, photo),) = [(p.name, p.media_type, p.content) for p in kept.parts]
    assert (name, media_type) == ("ordonnance.jpg", "image/jpeg") and photo.startswith(b"\xff\xd8")
    assert parse_message(kept.content).message_id == "<photo-1@patient.test>"  # as received
    assert service.fetch() == []  # flagged: never handled again
    (record,) = [r for r in runtime.journal.records() if r.action == "mss.message-kept"]
    assert "279035121518989" not in repr(record.details)  # no INS in the journal details
    assert runtime.outbox.find("mdn:<photo-1@patient.test>") is not None  # read receipt
