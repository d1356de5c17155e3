"""``segur outbox`` and ``segur audit`` through click's CliRunner on a temporary data dir."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from segur_core.cli import cli
from segur_core.cli._state import cli_actor
from segur_core.cli.outbox import parse_age
from segur_core.errors import PermanentDeliveryError
from segur_core.journal import Journal
from segur_core.model import DeliveryState
from segur_core.outbox import Outbox

NIR = "279035121518989"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def segur(tmp_path: Path, data_dir: Path):
    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\ndata_dir = "{data_dir}"\nmode = "test"\n')

    def run(*args: str, code: int = 0):
        result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return run


@pytest.fixture
def filled(data_dir: Path) -> dict[str, int]:
    def send(item) -> str:
        if item.key == "doc-dead":
            raise PermanentDeliveryError("document refused", service="dmp", code="E42")
        return "stored"

    with Outbox(data_dir / "outbox.sqlite", senders={"dmp.iti41": send}) as outbox:
        ids = {
            key: outbox.enqueue("dmp.iti41", key, key.encode() * 3, patient_id=NIR).id
            for key in ("doc-ok", "doc-dead")
        }
        assert outbox.run_until_idle(timeout=5)
        ids["doc-later"] = outbox.enqueue("mssante.smtp", "doc-later", b"mail").id
    return ids


def test_outbox_list_table_and_json(segur, filled: dict[str, int]) -> None:
    table = segur("outbox", "list").output
    assert "segur outbox" in table
    for text in ("doc-ok", "doc-dead", "doc-later", "document refused", "1 delivered, 1 dead"):
        assert text in table
    assert NIR not in table
    data = json.loads(segur("outbox", "list", "--json").output)
    assert data["counts"] == {"pending": 1, "in-flight": 0, "delivered": 1, "dead": 1}
    assert [d["key"] for d in data["deliveries"]] == ["doc-ok", "doc-dead", "doc-later"]
    dead = json.loads(segur("outbox", "list", "--state", "dead", "--json").output)
    assert [d["id"] for d in dead["deliveries"]] == [filled["doc-dead"]]
    assert "E42" in dead["deliveries"][0]["last_error"]
    assert NIR not in json.dumps(data)
    by_kind = json.loads(segur("outbox", "list", "--kind", "mssante.smtp", "--json").output)
    assert [d["key"] for d in by_kind["deliveries"]] == ["doc-later"]


def test_outbox_show(segur, filled: dict[str, int]) -> None:
    data = json.loads(segur("outbox", "show", str(filled["doc-ok"]), "--json").output)
    assert data["state"] == "delivered" and data["result"] == "stored"
    assert data["payload_bytes"] == len(b"doc-ok" * 3) and data["has_patient"] is True
    assert "payload_sha256" in segur("outbox", "show", str(filled["doc-ok"])).output
    missing = segur("outbox", "show", "999", code=1)
    assert "no outbox delivery 999" in missing.output


def test_outbox_retry_and_purge(segur, filled: dict[str, int], data_dir: Path) -> None:
    refused = segur("outbox", "retry", str(filled["doc-ok"]), code=1)
    assert "only dead or pending" in refused.output
    segur("outbox", "retry", code=2)  # nothing named
    data = json.loads(segur("outbox", "retry", "--all-dead", "--json").output)
    assert [(d["id"], d["state"]) for d in data["retried"]] == [(filled["doc-dead"], "pending")]
    with Outbox(data_dir / "outbox.sqlite") as outbox:
        assert outbox.get(filled["doc-dead"]).state is DeliveryState.PENDING
    purged = json.loads(segur("outbox", "purge", "--older-than", "1d", "--json").output)
    assert purged.pop("file_bytes").keys() == {"before", "after"}
    assert purged == {"purged": 0, "state": "delivered", "older_than_s": 86400.0, "payloads": False}
    assert "purged 1 delivered" in segur("outbox", "purge").output
    segur("outbox", "purge", "--older-than", "soon", code=2)
    with Journal(data_dir / "journal.sqlite") as journal:
        actions = [(r.action, r.actor) for r in journal.records()]
        who = cli_actor()  # cli:<login>: who ran the command
        assert who.startswith("cli:") and who != "cli:"
        assert ("outbox.retry", who) in actions and ("outbox.purge", who) in actions
        assert journal.records(patient_id=NIR)[0].details["key"] == "doc-dead"


def test_parse_age() -> None:
    assert parse_age("90").total_seconds() == 90
    assert parse_age("15m").total_seconds() == 900
    assert parse_age("2w").days == 14


def test_audit_show_pseudonymises_unless_revealed(segur, data_dir: Path) -> None:
    with Journal(data_dir / "journal.sqlite") as journal:
        journal.record("insi.call", service="insi", patient_id=NIR, actor="rpps:1")
        journal.record("patient.read", patient_id="other", actor="rpps:1")
        pseudonym = journal.pseudonym(NIR)
    table = segur("audit", "show").output
    assert "insi.call" in table and pseudonym in table and NIR not in table
    data = json.loads(segur("audit", "show", "--patient", NIR, "--json").output)
    assert [r["action"] for r in data["records"]] == ["insi.call"]
    assert data["records"][0]["patient_id"] == pseudonym
    revealed = json.loads(segur("audit", "show", "--patient", NIR, "--reveal", "--json").output)
    assert revealed["records"][0]["patient_id"] == NIR
    assert json.loads(segur("audit", "show", "--since", "2999-01-01", "--json").output) == {
        "records": []
    }
    segur("audit", "show", "--since", "yesterday", code=2)


def test_audit_verify_reports_tampering(segur, data_dir: Path) -> None:
    with Journal(data_dir / "journal.sqlite") as journal:
        for n in range(6):
            journal.record("patient.read", patient_id=f"p{n}")
    assert "journal intact: 6 records" in segur("audit", "verify").output
    conn = sqlite3.connect(data_dir / "journal.sqlite", isolation_level=None)
    conn.execute("DROP TRIGGER records_no_delete")
    conn.execute("DELETE FROM records WHERE seq = 3")
    conn.close()
    tampered = segur("audit", "verify", code=1)
    assert "TAMPERED" in tampered.output and "first bad record: 3" in tampered.output
    assert "deleted" in tampered.output
    data = json.loads(segur("audit", "verify", "--json", code=1).output)
    assert data["ok"] is False and data["first_bad"] == 3
    assert data["problems"][0]["kind"] == "deleted"
