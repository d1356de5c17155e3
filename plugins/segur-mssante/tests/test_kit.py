"""Received CDA go through segur-documents' validator: the kit's verdict is stored with
the document and carried by ``on_document_received``; a document failing the kit is
kept all the same, with its report (the pharmacist decides).

One test runs the official schematrons (their compiled XSLTs are cached with
segur-documents' tests); the others check structure and XSD only."""

from __future__ import annotations

from pathlib import Path

import pytest
from segur_mssante.receive import IMPORTED
from segur_mssante.service import service_for

from segur_core import hookimpl
from segur_core.model import INS, Identity, IdentityStatus, IdentityTraits, Patient
from segur_core.xdm import Issuer, read_xdm, write_xdm

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
KIT = SHARED / "cisis" / "TestContenuCDA-3-0"
VAC_NOTE = SHARED / "xdm" / "VAC-NOTE_2023.01.zip"
VACCINATION_INS = INS("279035121518989", "1.2.250.1.213.1.4.10")


class Listener:
    """Records what ``on_document_received`` carried."""

    def __init__(self) -> None:
        self.received: list = []

    @hookimpl
    def on_document_received(self, document, origin, runtime) -> None:
        self.received.append(document)


def _needs_kit() -> None:
    if not (KIT / "infrastructure" / "cda" / "CDA_extended.xsd").is_file():
        pytest.skip(f"the ANS CDA test kit is not at {KIT}")


def _patient(runtime, ins: INS) -> Patient:
    traits = IdentityTraits(birth_name="X", first_names="Y", sex="F", birth_date="1979-03-05")
    identity = Identity(traits=traits, status=IdentityStatus.QUALIFIED, ins=ins)
    return runtime.host.save_patient(Patient(id="", identity=identity))


def _runtime(make_segur_runtime, listener, **documents):
    return make_segur_runtime(
        autoload=True,
        plugins=["ins", "documents", "mss"],
        config={"documents": documents},
        extra_plugins=[listener],
    )


def _archive(cda: bytes) -> bytes:
    return write_xdm([cda], issuer=Issuer("1", "Cabinet"), source_id="1.2.250.1.999")


def test_a_document_failing_the_kit_is_kept_with_its_report(make_segur_runtime, vaccination_cda):
    _needs_kit()
    listener = Listener()
    runtime = _runtime(make_segur_runtime, listener, schematron=False)
    patient = _patient(runtime, VACCINATION_INS)
    service = service_for(runtime)
    # a header element the CDA schema does not know: readable, but not what the kit accepts
    broken = vaccination_cda.replace(b"<typeId ", b"<extraHeader/><typeId ", 1)
    broken = broken.replace(b'<id root="2.25.', b'<id root="2.25.1', 1)  # another document

    good, bad = (service.import_archive(_archive(cda)) for cda in (vaccination_cda, broken))
    ((good_doc,), (bad_doc,)) = good.documents, bad.documents
    assert good_doc.outcome == bad_doc.outcome == IMPORTED
    assert good_doc.check.valid and "xsd" in good_doc.check.checks
    assert any("schématrons" in reason for reason in good_doc.check.skipped)  # said, not hidden
    assert not bad_doc.check.valid
    assert any(issue.source == "xsd" for issue in bad_doc.check.errors)
    # stored with the document, and carried by the event
    (stored,) = [d for d in runtime.host.list_documents(patient.id) if d.id == bad_doc.document_id]
    assert stored.check == bad_doc.check
    assert [d.check for d in listener.received] == [good_doc.check, bad_doc.check]
    # journaled without the report's text
    kits = [
        (r.details["kit"], r.details["kit_errors"] > 0)
        for r in runtime.journal.records()
        if r.action == "mss.document-received"
    ]
    assert kits == [("valid", False), ("invalid", True)]


def test_an_unknown_patients_document_is_checked_too(make_segur_runtime, vaccination_cda):
    _needs_kit()
    runtime = _runtime(make_segur_runtime, Listener(), schematron=False)
    (outcome,) = service_for(runtime).import_archive(_archive(vaccination_cda)).documents
    assert outcome.outcome == "unknown-patient" and outcome.check.valid


def test_received_documents_go_through_the_volets_schematrons(make_segur_runtime, tmp_path_factory):
    """The one test here that loads the official schematrons (cached across the suite)."""
    from segur_documents.checks import saxon_available

    _needs_kit()
    if not saxon_available():
        pytest.skip("saxonche is not installed")
    if not VAC_NOTE.is_file():
        pytest.skip(f"the official XDM examples are not in {VAC_NOTE.parent}")
    cache = tmp_path_factory.getbasetemp().parent / "segur-cisis-cache"  # segur-documents' too
    cache.mkdir(parents=True, exist_ok=True)
    listener = Listener()
    runtime = _runtime(make_segur_runtime, listener, cache_dir=str(cache))
    data = VAC_NOTE.read_bytes()
    patient = _patient(runtime, read_xdm(data).ins)
    (outcome,) = service_for(runtime).import_archive(data).documents
    assert outcome.outcome == IMPORTED
    schematrons = [c for c in outcome.check.checks if c.startswith("schematron:")]
    assert schematrons, outcome.check.checks
    (stored,) = runtime.host.list_documents(patient.id)
    assert stored.check == outcome.check == listener.received[0].check
