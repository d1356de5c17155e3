"""Journal records of command-line actions name who acted (``docs/cli.md``): the
operator (``$SEGUR_ACTOR``, else ``cli:<OS login>``), unless the record names a person."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from segur_core.cli import cli
from segur_core.cli._state import cli_actor
from segur_core.journal import Journal
from segur_core.journal.acting import ActingJournal, acting


def test_the_operator_is_segur_actor_else_the_os_login(monkeypatch) -> None:
    monkeypatch.delenv("SEGUR_ACTOR", raising=False)
    assert cli_actor() == f"cli:{getpass.getuser()}"
    monkeypatch.setenv("SEGUR_ACTOR", "  Mme   Martin (poste 2) ")
    assert cli_actor() == "Mme Martin (poste 2)"


def test_the_acting_journal_fills_in_nobody_and_components_never_a_person(tmp_path) -> None:
    with Journal(tmp_path / "journal.sqlite") as journal:
        assert acting(journal, None) is journal
        wrapped = acting(journal, "cli:alice")
        assert isinstance(wrapped, ActingJournal)
        wrapped.record("ins.qualify", patient_id="P1")
        wrapped.record("dmp.mask", actor="plugin:dmp", service="dmp")
        wrapped.record("documents.validate", actor="rpps:10000000001")
        wrapped.record_many([{"action": "patients.list"}, {"action": "x", "actor": "rpps:2"}])
        assert [(r.action, r.actor) for r in journal.records()] == [
            ("ins.qualify", "cli:alice"),
            ("dmp.mask", "cli:alice"),
            ("documents.validate", "rpps:10000000001"),
            ("patients.list", "cli:alice"),
            ("x", "rpps:2"),
        ]
        assert wrapped.verify().ok


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "segur.toml"
    path.write_text(
        f'[segur]\ndata_dir = "{tmp_path / "data"}"\nmode = "test"\nplugins = ["vitale"]\n',
        encoding="utf-8",
    )
    return path


def test_a_plugin_command_journals_the_operator(config: Path, tmp_path: Path) -> None:
    runner = CliRunner(env={"SEGUR_ACTOR": "cli:pharmacist-2"})
    typed = ["vitale", "manual", "--birth-name", "DUPONT", "--first-names", "ANNE",
             "--sex", "F", "--birth-date", "1980-02-03", "--json"]  # fmt: skip
    result = runner.invoke(cli, ["--config", str(config), *typed])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["reading"]["traits"]["birth_name"] == "DUPONT" and data["dispatched"] is True
    assert "vitale.manual-entry" in [r["action"] for r in data["journal"]]
    with Journal(tmp_path / "data" / "journal.sqlite") as journal:
        (entry,) = [r for r in journal.records() if r.action == "vitale.manual-entry"]
    assert entry.actor == "cli:pharmacist-2"
