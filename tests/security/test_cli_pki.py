"""``segur pki init DIR``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from segur_core.cli.pki import command
from segur_core.testing.pki import TestPKI


def test_pki_init_creates_and_lists_files(tmp_path: Path) -> None:
    target = tmp_path / "pki"
    result = CliRunner().invoke(command, ["init", str(target)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    assert "INSI-AUTO" in result.output
    assert "ca-bundle.pem" in result.output
    pki = TestPKI.load(target)
    assert pki.client("insi-auto").p12_path.is_file()

    again = CliRunner().invoke(command, ["init", str(target), "--json"])
    assert again.exit_code == 0, again.output
    payload = json.loads(again.output)
    assert payload["created"] is False
    paths = [Path(row["path"]) for row in payload["files"]]
    assert all(path.is_file() for path in paths)
    assert {row["role"] for row in payload["files"]} >= {"server", "insi-auto", "cps"}


def test_pki_init_reports_unusable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(command, ["init", str(blocker / "pki")])
    assert result.exit_code != 0
    assert "Error" in result.output


def test_segur_root_command_has_pki() -> None:
    from segur_core.cli import cli

    result = CliRunner().invoke(cli, ["pki", "--help"])
    assert result.exit_code == 0, result.output
    assert "init" in result.output
