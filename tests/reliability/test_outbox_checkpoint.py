"""The SQLite outbox's WAL is copied back into the database by a thread of the store, not
by the caller whose commit crossed SQLite's 1,000 pages (who would wait for two
``fsync`` calls); the WAL stays bounded under a steady stream of commits, and the
thread stops with the store."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

from segur_core.outbox import Outbox
from segur_core.outbox.checkpoint import BACKSTOP, EVERY

PAYLOAD = b"<ClinicalDocument>" + b"x" * 2000 + b"</ClinicalDocument>"


def _checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "segur-outbox-checkpoint"]


def _rows_in_database_file(path: Path, copy: Path) -> int:
    """The items the database file holds by itself (what checkpoints copied there): 0
    while no checkpoint has copied even the schema, or when the copy caught a checkpoint
    half-way (the caller looks again)."""
    shutil.copyfile(path, copy)  # without its -wal: only what was checkpointed
    try:
        with closing(sqlite3.connect(copy)) as conn:
            return conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    except sqlite3.DatabaseError:  # "no such table", or a page copied mid-checkpoint
        return 0
    finally:
        for leftover in (
            copy,
            copy.with_name(copy.name + "-wal"),
            copy.with_name(copy.name + "-shm"),
        ):
            leftover.unlink(missing_ok=True)


def test_a_thread_of_the_store_checkpoints_and_the_writers_do_not(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as outbox:
        for i in range(2 * EVERY + 10):
            outbox.enqueue("dmp", f"item-{i}", PAYLOAD)
        conn = outbox._store._conn()
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == BACKSTOP
        assert len(_checkpointers()) == 1
        deadline = time.monotonic() + 10
        while _rows_in_database_file(path, tmp_path / "copy.sqlite") < 2 * EVERY:
            assert time.monotonic() < deadline, "nothing was checkpointed"
            time.sleep(0.05)
    assert _checkpointers() == []


def test_the_wal_stays_bounded_under_a_steady_stream_of_commits(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    wal = path.with_name(path.name + "-wal")
    largest = 0
    with Outbox(path, senders={"dmp": lambda item: None}) as outbox:
        for i in range(1500):  # about 9,000 pages of WAL, twice the backstop
            outbox.enqueue("dmp", f"item-{i}", PAYLOAD)
            if i % 100 == 0:
                outbox.deliver_due()
                largest = max(largest, wal.stat().st_size)
        assert outbox.run_until_idle(timeout=30)
    assert largest <= 2 * BACKSTOP * (4096 + 24)


def test_closing_the_store_while_it_checkpoints_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    for round_ in range(3):
        with Outbox(path) as outbox:
            for i in range(EVERY):  # the last commit asks for a checkpoint, then close
                outbox.enqueue("dmp", f"item-{round_}-{i}", PAYLOAD)
        assert _checkpointers() == []
    with Outbox(path) as outbox:
        assert sum(outbox.counts().values()) == 3 * EVERY
