"""The documents' demo step checks each document once (at validation), not twice."""

from __future__ import annotations

import json

from segur_documents.checks.validator import Validator

from segur_core.plugin import DemoContext


def test_each_document_is_checked_once(
    make_segur_runtime, kit_path, cache_dir, tmp_path, monkeypatch
):
    from segur_documents.demo import run_demo_step

    checked = []
    original = Validator.validate
    monkeypatch.setattr(
        Validator, "validate", lambda self, xml: checked.append(1) or original(self, xml)
    )
    config = {
        "documents": {"kit_path": str(kit_path), "cache_dir": str(cache_dir), "schematron": False}
    }
    runtime = make_segur_runtime(config=config, plugins=["documents"], autoload=True)
    ctx = DemoContext(runtime=runtime, out_dir=tmp_path / "out")
    run_demo_step(ctx)
    documents = ctx.data["documents"]
    assert len(documents) == 3 and len(checked) == 3
    for kind in ("vaccination", "entretien", "bpm"):
        report = json.loads((tmp_path / "out" / "documents" / f"{kind}.checks.json").read_text())
        assert report["valid"] is True and "xsd" in report["checks"]
