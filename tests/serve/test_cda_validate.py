"""``segur cda validate`` uses the configured ``segur serve`` (its warm validator), and
checks in process when none answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from segur_core.cli import cli
from segur_core.secrets import Secret
from segur_core.serve import ServeSettings

from .conftest import TOKEN

KIT = Path(__file__).resolve().parents[3] / "shared" / "cisis" / "TestContenuCDA-3-0"
pytestmark = pytest.mark.skipif(not KIT.is_dir(), reason="the CI-SIS kit is not in ../shared")


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "segur.toml"
    path.write_text(
        f'[segur]\nplugins = ["documents"]\ndata_dir = "data"\n'
        f'[segur.serve]\nurl = "{url}"\ntoken = "env:SEGUR_TEST_TOKEN"\n'
        f'[documents]\nkit_path = "{KIT}"\nschematron = false\n',
        encoding="utf-8",
    )
    return path


def test_cda_validate_goes_through_the_running_service(
    served, make_segur_runtime, tmp_path, monkeypatch
):
    monkeypatch.setenv("SEGUR_TEST_TOKEN", TOKEN)
    runtime = make_segur_runtime(
        config={"documents": {"kit_path": str(KIT), "schematron": False}},
        plugins=["documents"], autoload=True,
    )  # fmt: skip
    settings = ServeSettings(token=Secret(TOKEN), outbox_worker=False, warm=False)
    _app, client = served(runtime=runtime, settings=settings)
    client.wait_ready(60)
    example = KIT / "ExemplesCDA" / "VAC-NOTE_2023.01.xml"
    broken = tmp_path / "broken.xml"
    broken.write_bytes(example.read_bytes().replace(b"<recordTarget", b"<recordTargetX", 1))
    config = _config(tmp_path, client.url)

    result = CliRunner().invoke(
        cli, ["--config", str(config), "cda", "validate", "--json", str(example), str(broken)]
    )
    assert result.exit_code == 1, result.output
    reports = {entry["file"]: entry for entry in json.loads(result.stdout)["files"]}
    assert reports[str(example)]["valid"] is True and not reports[str(broken)]["valid"]
    calls = [r for r in runtime.journal.records() if r.action == "api.call"]
    assert [r.details["operation"] for r in calls[-2:]] == ["documentsCheck", "documentsCheck"]

    result = CliRunner().invoke(
        cli, ["--config", str(config), "cda", "validate", "--local", str(example)]
    )
    assert result.exit_code == 0 and "VALID" in result.stdout
    assert len([r for r in runtime.journal.records() if r.action == "api.call"]) == len(calls)


def test_cda_validate_checks_in_process_when_no_service_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGUR_TEST_TOKEN", TOKEN)
    config = _config(tmp_path, f"unix:{tmp_path / 'nobody.sock'}")
    example = KIT / "ExemplesCDA" / "VAC-NOTE_2023.01.xml"
    result = CliRunner().invoke(cli, ["--config", str(config), "cda", "validate", str(example)])
    assert result.exit_code == 0, result.output
    assert "no segur service answers" in result.stderr and "VALID" in result.stdout
