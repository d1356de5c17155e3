"""A delivered item's payload is dropped after the retention; its record stays for
``outbox list`` and the journal, and the file gives the space back (it stays bounded
under a steady load)."""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from segur_core.cli import cli
from segur_core.errors import ConfigError, PermanentDeliveryError
from segur_core.model import DeliveryState
from segur_core.outbox import Outbox
from segur_core.outbox.policy import DEFAULT_RETENTION_DAYS, OutboxSettings

from .stores import BACKENDS, Store, make_store, random_tenant

DAY = 86400.0
PAYLOAD = b"<ClinicalDocument>" + b"x" * 20_000 + b"</ClinicalDocument>"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _send(item) -> str:
    if item.key.startswith("dead"):
        raise PermanentDeliveryError("refused", service="test", code="E1")
    return "stored"


def _size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _pages(path: Path) -> int:
    """The database's size in pages, what its WAL holds included."""
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA page_count").fetchone()[0]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return make_store(request, request.param, tmp_path).for_tenant(random_tenant())


def test_a_delivered_payload_is_dropped_after_the_retention_its_record_kept(store):
    clock = Clock()
    settings = OutboxSettings(payload_retention=2 * DAY)
    with store.outbox(senders={"k": _send}, settings=settings, clock=clock) as ob:
        ok = ob.enqueue("k", "ok-1", PAYLOAD, patient_id="p1")
        dead = ob.enqueue("k", "dead-1", PAYLOAD)
        assert ob.run_until_idle(timeout=5)
        later = ob.enqueue("k", "later", PAYLOAD)  # pending: no sender runs it below
        clock.now += 2 * DAY - 1
        assert ob.drop_payloads() == 0  # not yet
        assert ob.payload(ok.id) == PAYLOAD
        clock.now += 600  # workers look every ten minutes
        ob.deliver_due(limit=0)  # a worker's pass drops what is due, by itself
        assert ob.payload(ok.id) == b""
        assert ob.payload(dead.id) == PAYLOAD  # a dead letter may be retried: kept
        assert ob.payload(later.id) == PAYLOAD
        kept = ob.get(ok.id)
        assert (kept.state, kept.result, kept.attempts, kept.patient_id, kept.key) == (
            DeliveryState.DELIVERED, "stored", 1, "p1", "ok-1"
        )  # fmt: skip
        assert [d.key for d in ob.list("delivered")] == ["ok-1"]
        assert ob.drop_payloads() == 0  # once


def test_the_file_stays_bounded_and_purge_gives_the_space_back(tmp_path):
    clock = Clock()
    path = tmp_path / "o.sqlite"
    settings = OutboxSettings(payload_retention=DAY)
    sizes: list[int] = []
    with Outbox(path, senders={"k": _send}, settings=settings, clock=clock) as ob:
        for day in range(6):  # a steady daily load: 60 items a day, kept one day
            for i in range(60):
                ob.enqueue("k", f"d{day}-{i}", PAYLOAD)
            assert ob.run_until_idle(timeout=30)
            clock.now += DAY + 1
            ob.drop_payloads()
            sizes.append(_pages(path))
        assert max(sizes[2:]) <= sizes[1] * 1.1, sizes  # freed pages are reused
        before = _size(path)
        ob.compact()
        assert _size(path) < before / 5, (before, _size(path))
        assert len(ob.list("delivered")) == 360


def test_an_outbox_file_without_incremental_vacuum_is_rewritten_once(tmp_path):
    path = tmp_path / "old.sqlite"
    with Outbox(path, senders={"k": _send}) as ob:
        ob.enqueue("k", "x", PAYLOAD)
        assert ob.run_until_idle(timeout=5)
    with sqlite3.connect(path) as conn:  # as a file made before this version
        conn.execute("PRAGMA auto_vacuum = NONE")
        conn.execute("VACUUM")
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    with Outbox(path, senders={"k": _send}) as ob:
        assert ob.drop_payloads(0) == 1
        ob.compact()
        assert ob.get(1).result == "stored"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2


def test_retention_setting_default_and_table():
    assert OutboxSettings().payload_retention == DEFAULT_RETENTION_DAYS * DAY
    settings = OutboxSettings.from_table({"payload_retention_days": 7})
    assert settings.payload_retention == 7 * DAY
    assert settings.as_table()["payload_retention_days"] == 7


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(2**70), 2**70),
        st.booleans(),
        st.text(max_size=5),
        st.none(),
    )
)
def test_retention_setting_is_a_positive_bounded_number_or_a_config_error(value):
    try:
        settings = OutboxSettings.from_table({"payload_retention_days": value})
    except ConfigError as exc:
        assert exc.key == "segur.outbox.payload_retention_days"
        return
    assert not isinstance(value, bool) and 0 < value <= 1e9
    assert settings.payload_retention == float(value) * DAY


@pytest.fixture
def segur(tmp_path: Path):
    data_dir = tmp_path / "data"
    config = tmp_path / "segur.toml"
    config.write_text(
        f'[segur]\ndata_dir = "{data_dir}"\nmode = "test"\n\n'
        "[segur.outbox]\npayload_retention_days = 1\n"
    )

    def run(*args: str, code: int = 0):
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result

    run.data_dir = data_dir  # type: ignore[attr-defined]
    return run


def test_cli_purge_payloads_keeps_the_records_and_prints_the_file_size(segur):
    clock = Clock()
    path = segur.data_dir / "outbox.sqlite"
    with Outbox(path, senders={"k": _send}, clock=clock) as ob:
        for i in range(50):
            ob.enqueue("k", f"ok-{i}", PAYLOAD)
        assert ob.run_until_idle(timeout=30)
    data = json.loads(segur("outbox", "purge", "--payloads", "--json").output)
    # delivered just now (by the real clock: the fake one is in 1970): past one day
    assert data["purged"] == 50 and data["payloads"] is True
    assert data["older_than_s"] == DAY and data["state"] == "delivered"
    sizes = data["file_bytes"]
    assert sizes["after"] < sizes["before"] / 5, sizes
    listed = json.loads(segur("outbox", "list", "--json").output)
    assert listed["counts"]["delivered"] == 50
    shown = json.loads(segur("outbox", "show", "1", "--json").output)
    assert shown["payload_bytes"] == 0 and shown["result"] == "stored"
    text = segur("outbox", "purge", "--payloads").output
    assert "0" in text and "bytes" in text
    segur("outbox", "purge", "--payloads", "--older-than", "soon", code=2)


def test_the_documented_purge_commands_run(segur):
    doc = Path(__file__).resolve().parents[2] / "docs" / "host-integration.md"
    lines = re.findall(r"^\$ segur (outbox purge[^#\n]*)", doc.read_text(), re.MULTILINE)
    assert len(lines) == 4, lines
    with Outbox(segur.data_dir / "outbox.sqlite", senders={"k": _send}) as ob:
        ob.enqueue("k", "ok-1", PAYLOAD)
        ob.enqueue("k", "dead-1", PAYLOAD)
        assert ob.run_until_idle(timeout=5)
    for line in lines:
        output = segur(*shlex.split(line)).output
        if "--json" in line:
            assert json.loads(output)["payloads"] is True
        else:
            assert "bytes before" in output
