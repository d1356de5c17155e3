"""The structured documents' renderings in the export's ``PDF/`` folder: the one kept when
the document came into being, else rendered during the export (and kept then)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from segur_documents.renderings import FOLDER, RenderingStore
from segur_documents.testing import rendering_unavailable

from segur_core.safezip import open_zip

pypdf = pytest.importorskip("pypdf")


@pytest.fixture(autouse=True)
def _stylesheet():
    reason = rendering_unavailable()
    if reason:
        pytest.skip(reason)


def _export(runtime, out: Path):
    from segur_portability.signing import signer_for
    from segur_portability.writer import export_archive

    return export_archive(runtime, out, signer=signer_for(runtime), source_id="1.2.3.999")


def _structured_pdf(result) -> bytes:
    with zipfile.ZipFile(result.path) as top, open_zip(top.read("PAT00001.ZIP")) as inner:
        assert "IHE_XDM/SUBSET01/DOC0001.XML" in inner.names()
        return inner.read("PDF/DOC0001.PDF")


def _last(runtime, action: str):
    return [r for r in runtime.journal.records() if r.action == action][-1]


def test_the_kept_rendering_is_exported(exported):
    runtime, ids, result = exported
    vaccination = runtime.host.list_documents(ids[0])[0]
    assert _structured_pdf(result) == RenderingStore.of(runtime).get(vaccination.content)
    details = _last(runtime, "portability.export").details
    assert (details["renderings_kept"], details["renderings_made"]) == (1, 0)


def test_a_missing_rendering_is_made_on_export_and_kept(source, tmp_path: Path):
    runtime, ids = source
    vaccination = runtime.host.list_documents(ids[0])[0]
    store = RenderingStore.of(runtime)
    store.path(vaccination.content).unlink()  # a document from before the renderings

    pdf = _structured_pdf(_export(runtime, tmp_path / "one"))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert vaccination.title.split()[0].upper() in reader.pages[0].extract_text().upper()
    assert 'pdfaid:part="1"' in reader.xmp_metadata.rdf_root.toxml()
    assert store.get(vaccination.content) == pdf
    assert store.path(vaccination.content).stat().st_mode & 0o777 == 0o600
    assert _last(runtime, "portability.export").details["renderings_made"] == 1

    _export(runtime, tmp_path / "two")  # the second export reads it
    assert _last(runtime, "portability.export").details["renderings_kept"] == 1


def test_a_rendering_that_cannot_be_kept_is_journaled_and_exported(source, tmp_path: Path):
    runtime, ids = source
    vaccination = runtime.host.list_documents(ids[0])[0]
    store = RenderingStore.of(runtime)
    kept = store.get(vaccination.content)
    folder = Path(runtime.data_dir) / FOLDER
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    folder.rmdir()
    folder.write_bytes(b"")  # the folder cannot be made: nothing can be kept

    assert _structured_pdf(_export(runtime, tmp_path / "out")) == kept
    failed = _last(runtime, "documents.rendering")
    assert failed.outcome == "failed" and failed.patient_id is None
    assert failed.details == {
        "document": vaccination.id,
        "type": vaccination.type_code,
        "step": "keep",
        "reason": "NotADirectoryError",
    }
    assert _last(runtime, "portability.export").details["renderings_failed"] == 0


def test_an_import_keeps_the_archives_renderings(exported, make_runtime):
    from segur_portability.importer import import_archive

    _runtime, ids, result = exported
    target = make_runtime()
    import_archive(target, result.path)
    structured, n1 = target.host.list_documents(ids[0])
    assert RenderingStore.of(target).get(structured.content) == _structured_pdf(result)
    assert RenderingStore.of(target).get(n1.content) is None  # it carries its own
