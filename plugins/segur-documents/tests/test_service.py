"""The document life cycle on a real runtime and the SQLite reference host."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from segur_documents import (
    NO_INS_WARNING,
    BilanMedication,
    DocumentService,
    Entretien,
    read_cda,
)
from segur_documents import plugin as documents_plugin

from segur_core.errors import DocumentError
from segur_core.model import DocumentStatus

from .test_builders import vaccination

segur_ins_plugin = pytest.importorskip("segur_ins.plugin")


@pytest.fixture
def segur_plugins():
    return [("documents", documents_plugin), ("ins", segur_ins_plugin)]


@pytest.fixture
def segur_config(kit_path, cache_dir):
    return {"documents": {"kit_path": str(kit_path), "cache_dir": str(cache_dir)}}


@pytest.fixture
def service(segur_runtime, official_validator) -> DocumentService:
    return DocumentService(segur_runtime)


@pytest.fixture
def stored_patient(segur_runtime, patient):
    return segur_runtime.host.save_patient(patient)


def test_draft_validate_fires_the_event(service, segur_runtime, stored_patient, hook_recorder):
    draft = service.draft(stored_patient, vaccination())
    assert draft.document.status is DocumentStatus.DRAFT
    assert draft.warnings == ()
    assert segur_runtime.host.get_document(draft.document.id).status is DocumentStatus.DRAFT
    doc = read_cda(draft.xml)
    assert doc.patient.ins is not None  # qualified identity: the INS is shared
    assert doc.authors[0].rpps == segur_runtime.host.practitioner().rpps

    validated = service.validate(draft.document, stored_patient)
    assert validated.status is DocumentStatus.VALIDATED
    assert segur_runtime.host.get_document(validated.id).status is DocumentStatus.VALIDATED
    calls = [c for c in hook_recorder.calls if c.name == "on_document_validated"]
    assert len(calls) == 1
    assert calls[0].kwargs["document"].id == validated.id
    legal = read_cda(validated.content).legal_authenticator
    assert legal.rpps == segur_runtime.host.practitioner().rpps


def test_replacement_marks_the_previous_version(service, segur_runtime, stored_patient):
    first = service.validate(
        service.draft(stored_patient, BilanMedication(dt.date(2024, 1, 2))).document, stored_patient
    )
    second_draft = service.draft(
        stored_patient, BilanMedication(dt.date(2024, 1, 3)), previous=first
    )
    assert second_draft.document.set_id == first.set_id
    assert second_draft.document.version == 2
    second = service.validate(second_draft.document, stored_patient)
    assert read_cda(second.content).replaces == first.id
    assert segur_runtime.host.get_document(first.id).status is DocumentStatus.REPLACED
    assert segur_runtime.host.get_document(second.id).status is DocumentStatus.VALIDATED


def test_failing_document_is_refused_with_reasons(
    service, segur_runtime, stored_patient, hook_recorder
):
    draft = service.draft(stored_patient, vaccination()).document
    broken = attrs.evolve(
        draft, content=draft.content.replace(b"<lotNumberText>4456672</lotNumberText>", b"")
    )
    with pytest.raises(DocumentError) as caught:
        service.validate(broken, stored_patient)
    assert any("numéro de lot" in i.message for i in caught.value.issues)
    assert not [c for c in hook_recorder.calls if c.name == "on_document_validated"]
    assert segur_runtime.host.get_document(draft.id).status is DocumentStatus.DRAFT


def test_only_drafts_are_validated(service, stored_patient):
    validated = service.validate(
        service.draft(stored_patient, Entretien(dt.date(2024, 1, 2), "AOD")).document
    )
    with pytest.raises(DocumentError, match="draft"):
        service.validate(validated)


def test_unqualified_patient_gets_local_ids(service, segur_runtime, unqualified_patient):
    patient = segur_runtime.host.save_patient(unqualified_patient)
    draft = service.draft(patient, Entretien(dt.date(2024, 1, 2), "AOD"))
    assert NO_INS_WARNING in draft.warnings
    doc = read_cda(draft.xml)
    assert doc.patient.ins is None
    assert [ext for _root, ext in doc.patient.local_ids] == [patient.id]
    assert service.validate(draft.document, patient).status is DocumentStatus.VALIDATED


def test_journal_records_each_step(service, segur_runtime, stored_patient):
    recorded = []
    original = segur_runtime.journal.record

    def spy(action, **kwargs):
        recorded.append(action)
        return original(action, **kwargs)

    segur_runtime.journal.record = spy  # type: ignore[method-assign]
    try:
        service.validate(service.draft(stored_patient, vaccination()).document, stored_patient)
    finally:
        segur_runtime.journal.record = original  # type: ignore[method-assign]
    assert recorded[:2] == ["documents.draft", "documents.validate"]
