"""Payloads in a table of their own: a claim and a settlement do not copy the payload
into the WAL again, and an outbox written with payloads in its rows is moved to this
layout when it is opened, every item kept as it was."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segur_core.model import DeliveryState
from segur_core.outbox import Outbox
from segur_core.outbox.store import _SCHEMA

MB = 1 << 20


def _wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_a_claim_and_a_settlement_do_not_write_the_payload_again(tmp_path: Path) -> None:
    """With the payload in the row, SQLite wrote the whole megabyte again at the claim
    and at the settlement (the WAL grew by two megabytes for one delivery)."""
    path = tmp_path / "outbox.sqlite"
    with Outbox(path, senders={"dmp": lambda item: "stored"}) as outbox:
        outbox.enqueue("dmp", "big", b"<ClinicalDocument>" + b"x" * MB + b"</ClinicalDocument>")
        with sqlite3.connect(path) as conn:  # the WAL starts again from its beginning
            assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        assert _wal_bytes(path) == 0
        assert outbox.run_until_idle(timeout=10)
        assert outbox.find("big").state is DeliveryState.DELIVERED
        assert _wal_bytes(path) < 100_000  # a few pages, not the payload


def _old_layout() -> str:
    """The layout before payloads had a table of their own: the same ``deliveries``
    table with a ``payload`` column last, and its indexes."""
    kept = [s for s in _SCHEMA.split(";") if "payloads" not in s and s.strip() not in ("", "END")]
    table = kept[0].rstrip()
    assert table.endswith(")") and "CREATE TABLE IF NOT EXISTS deliveries" in table
    return ";".join([table[:-1] + ",\n    payload BLOB NOT NULL\n)", *kept[1:]]) + ";"


_ROWS = [  # key, state, payload (empty: dropped after its retention), settled_at, due_at
    ("pending", "pending", b"<p/>", None, 0.0),
    ("in-flight", "in-flight", b"<f/>", None, 0.0),  # its worker died: the lease expired
    ("dead", "dead", b"<d/>", 5.0, None),
    ("delivered", "delivered", b"<ok/>", 5.0, None),
    ("dropped", "delivered", b"", 5.0, None),
]


def _old_outbox(path: Path, rows=_ROWS) -> None:
    """An outbox file as segur wrote it before payloads had their own table."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(_old_layout())
        conn.executemany(
            "INSERT INTO deliveries (kind, key, state, attempts, created_at, settled_at,"
            " due_at, lease_owner, notified, payload) VALUES ('dmp', ?, ?, 1, ?, ?, ?,"
            " 'gone', 1, ?)",
            [
                (key, state, time.time(), settled, due, payload)
                for key, state, payload, settled, due in rows
            ],
        )
    path.chmod(0o600)


def test_an_outbox_with_payloads_in_its_rows_is_moved_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    _old_outbox(path)
    sent: dict[str, bytes] = {}

    def send(item) -> str:
        sent[item.key] = item.payload
        return "stored"

    with Outbox(path, senders={"dmp": send}) as outbox:
        before = {d.key: (d.id, d.state, d.attempts) for d in outbox.list()}
        assert before == {
            key: (n, DeliveryState(state), 1) for n, (key, state, *_) in enumerate(_ROWS, 1)
        }
        for n, (_key, _state, payload, *_) in enumerate(_ROWS, 1):
            assert outbox.payload(n) == payload
        assert outbox.run_until_idle(timeout=10)
        assert sent == {"pending": b"<p/>", "in-flight": b"<f/>"}
        outbox.retry(outbox.find("dead").id)
        assert outbox.run_until_idle(timeout=10)
        assert sent["dead"] == b"<d/>"
        new = outbox.enqueue("dmp", "new", b"<n/>")
        assert new.id == len(_ROWS) + 1  # ids go on from the old ones
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(deliveries)")}
        assert "payload" not in columns
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Outbox(path) as outbox:  # opened again: nothing to move, nothing lost
        assert outbox.payload(outbox.find("pending").id) == b"<p/>"  # delivered just now
        assert outbox.payload(outbox.find("delivered").id) == b""  # in 1970: past retention
        counts = outbox.counts()
        assert (counts[DeliveryState.DELIVERED], counts[DeliveryState.PENDING]) == (len(_ROWS), 1)
        assert outbox.payload(outbox.find("new").id) == b"<n/>"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payloads=st.lists(st.binary(max_size=6000), min_size=1, max_size=12),
    states=st.data(),
)
def test_moving_keeps_every_payload_byte_for_byte(
    tmp_path_factory: pytest.TempPathFactory, payloads: list[bytes], states: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("old") / "outbox.sqlite"
    rows = []
    for n, payload in enumerate(payloads):
        state = states.draw(st.sampled_from(["pending", "dead", "delivered"]))
        rows.append((f"item-{n}", state, payload, None if state == "pending" else 5.0, 0.0))
    _old_outbox(path, rows)
    sent: dict[str, bytes] = {}
    with Outbox(path, senders={"dmp": lambda item: sent.setdefault(item.key, item.payload)}) as ob:
        for n, payload in enumerate(payloads, 1):
            assert ob.payload(n) == payload
        assert ob.run_until_idle(timeout=10)
        assert sent == {key: payload for key, state, payload, *_ in rows if state == "pending"}
        purged = ob.purge(DeliveryState.DELIVERED)
    with sqlite3.connect(path) as conn:  # a purged delivery takes its payload with it
        left = conn.execute("SELECT count(*) FROM payloads").fetchone()[0]
    dead = [r for r in rows if r[1] == "dead"]
    assert purged == len(rows) - len(dead)  # the pending ones were delivered meanwhile
    assert left == len(dead)
