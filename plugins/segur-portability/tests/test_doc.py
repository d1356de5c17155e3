"""The samples of docs/portability.md run: a plugin adding its own section is exported
(file, schema, dictionary) without changing segur-portability, and the Python sample
exports, verifies and imports."""

from __future__ import annotations

import importlib.util
import re
import sys
import zipfile
from pathlib import Path

import pytest
import segur_portability.plugin as portability_plugin

from segur_core.safezip import open_zip

from .conftest import fill

DOC = Path(__file__).resolve().parents[3] / "docs" / "portability.md"


def _sample(name: str, tmp_path: Path):
    text = DOC.read_text(encoding="utf-8")
    blocks = dict(re.findall(r'```python title="([^"]+)"\n(.*?)```', text, flags=re.DOTALL))
    path = tmp_path / name
    path.write_text(blocks[name], encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"doc_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_doc_samples_run(make_segur_runtime, built_documents, tmp_path):
    visits = _sample("visits_plugin.py", tmp_path)
    sample = _sample("export_sample.py", tmp_path)
    source = make_segur_runtime(extra_plugins=[portability_plugin, visits])
    ids = fill(source, built_documents)
    target = make_segur_runtime(extra_plugins=[portability_plugin])
    result, report, imported = sample.export_check_and_copy(source, target, tmp_path / "out")
    assert report.ok and imported.patients == len(ids)
    with zipfile.ZipFile(result.path) as top:
        english = top.read("DOCUMENTATION/DICO_EN.HTM").decode()
        assert "DOCUMENTATION/SCHEMAS/VISITS.JSN" in top.namelist()
        with open_zip(top.read("PAT00001.ZIP")) as inner:
            assert b'"vaccinated": null' in inner.read("DATA/VISITS.JSN")
    assert "<td>vaccinated</td><td>boolean</td>" in english
    assert "false: not vaccinated; null: not asked" in english


def test_the_rendering_sample_runs(exported, tmp_path):
    from segur_documents.testing import rendering_unavailable

    reason = rendering_unavailable()
    if reason:
        pytest.skip(reason)
    runtime, ids, result = exported
    sample = _sample("rendering_sample.py", tmp_path)
    structured, n1 = runtime.host.list_documents(ids[0])
    with zipfile.ZipFile(result.path) as top, open_zip(top.read("PAT00001.ZIP")) as inner:
        assert sample.rendering_of(runtime, structured) == inner.read("PDF/DOC0001.PDF")
    assert sample.rendering_of(runtime, n1) is None


def test_the_entry_sample_runs(exported, tmp_path):
    from segur_core.xds import entry_from_cda

    runtime, ids, _ = exported
    sample = _sample("entry_sample.py", tmp_path)
    note = runtime.host.list_documents(ids[0])[0]
    entry = sample.entry_of(runtime, note)
    assert entry is not None
    assert entry.unique_id == entry_from_cda(note.content, patient_id="").unique_id
    assert sample.entry_of(runtime, runtime.host.list_documents(ids[1])[0]) is None  # a PDF
