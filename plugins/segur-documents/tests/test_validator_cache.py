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


def test_the_kit_is_hashed_only_when_the_schematrons_need_it(kit_path, cache_dir, monkeypatch):
    from segur_documents.checks import kit as kit_module
    from segur_documents.checks.validator import Validator

    hashed = []
    original = kit_module._content_hash
    monkeypatch.setattr(kit_module, "_hashes", {})
    monkeypatch.setattr(
        kit_module, "_content_hash", lambda root: hashed.append(root) or original(root)
    )
    validator = Validator(kit_path, cache_dir=cache_dir, schematron=False)
    report = validator.validate((kit_path / "ExemplesCDA" / "VAC-NOTE_2023.01.xml").read_bytes())
    assert "xsd" in report.checks
    assert hashed == []  # reading the whole kit (~0.3 s) is not needed for XSD checks
    assert validator.kit.work.parent.name == validator.kit.hash
    assert hashed == [kit_path.resolve()]
