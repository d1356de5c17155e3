"""The process-wide validators follow the kit the configuration resolves to."""

from __future__ import annotations

from segur_documents.checks.kit import KIT_ENV
from segur_documents.config import DocumentsConfig
from segur_documents.service import validator_for


def test_unset_kit_path_follows_the_environment(kit_path, cache_dir, tmp_path, monkeypatch):
    config = DocumentsConfig(cache_dir=str(cache_dir), schematron=False)
    monkeypatch.setenv(KIT_ENV, str(tmp_path))  # no kit there
    without = validator_for(config)
    assert without.kit is None and without.xsd is None
    assert any("introuvable" in s for s in without._skipped())
    monkeypatch.setenv(KIT_ENV, str(kit_path))
    with_kit = validator_for(config)
    assert with_kit.kit is not None and with_kit.kit.root == kit_path.resolve()
    assert validator_for(config) is with_kit  # still one per resolved configuration
