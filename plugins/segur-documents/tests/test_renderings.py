"""A validated structured document's rendering is kept in the data directory; a rendering
that fails never stops the validation, and is journaled without the patient."""

from __future__ import annotations

from pathlib import Path

import pytest
from segur_documents import DocumentService
from segur_documents import plugin as documents_plugin
from segur_documents.renderings import FOLDER, RenderingStore
from segur_documents.testing import rendering_unavailable

from segur_core.model import DocumentStatus

from .test_builders import vaccination

segur_ins_plugin = pytest.importorskip("segur_ins.plugin")


@pytest.fixture
def segur_plugins():
    return [("documents", documents_plugin), ("ins", segur_ins_plugin)]


@pytest.fixture
def segur_config(kit_path, cache_dir):
    # XSD and structure only: the renderings need no schematron
    config = {"kit_path": str(kit_path), "cache_dir": str(cache_dir), "schematron": False}
    return {"documents": config}


@pytest.fixture
def validated(segur_runtime, patient):
    reason = rendering_unavailable()
    if reason:
        pytest.skip(reason)
    service = DocumentService(segur_runtime)
    stored = segur_runtime.host.save_patient(patient)

    def validate():
        draft = service.draft(stored, vaccination())
        return service.validate(draft.document, stored)

    return validate


def test_validating_keeps_the_rendering(segur_runtime, validated):
    document = validated()
    pdf = RenderingStore.of(segur_runtime).get(document.content)
    assert pdf is not None and pdf.startswith(b"%PDF-1.4")
    path = RenderingStore.of(segur_runtime).path(document.content)
    assert path.stat().st_mode & 0o777 == 0o600
    assert not [r for r in segur_runtime.journal.records() if r.action == "documents.rendering"]


def test_a_failed_rendering_never_stops_the_validation(segur_runtime, validated):
    (Path(segur_runtime.data_dir) / FOLDER).write_bytes(b"")  # nothing can be kept there
    document = validated()
    assert document.status is DocumentStatus.VALIDATED
    failed = [r for r in segur_runtime.journal.records() if r.action == "documents.rendering"]
    assert len(failed) == 1 and failed[0].outcome == "failed"
    assert failed[0].patient_id is None
    assert failed[0].details == {
        "document": document.id,
        "type": document.type_code,
        "step": "keep",
        "reason": "NotADirectoryError",
    }
