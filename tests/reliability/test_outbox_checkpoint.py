"""The SQLite outbox's WAL is copied back into the database by a thread of the store, not
by the caller whose commit crossed SQLite's 1,000 pages (who would wait for two
``fsync`` calls); the WAL stays bounded under a steady stream of commits, and the
thread stops with the store."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from segur_core.model import DeliveryState
from segur_core.outbox import Outbox, OutboxError, store
from segur_core.outbox.checkpoint import BACKSTOP, EVERY

PAYLOAD = b"<ClinicalDocument>" + b"x" * 2000 + b"</ClinicalDocument>"


def _checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "segur-outbox-checkpoint"]


def _rows_in_database_file(path: Path, copy: Path) -> int:
    """The items the database file holds by itself (what checkpoints copied there): 0
    while no checkpoint has copied even the schema."""
    shutil.copyfile(path, copy)  # without its -wal: only what was checkpointed
    try:
        with closing(sqlite3.connect(copy)) as conn:
            return conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    except sqlite3.OperationalError:  # "no such table"
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
        # the second checkpoint asked for started after commit 2 * EVERY; a loaded disk
        # may take seconds to sync, hence the patience (a guard against a hang only)
        assert outbox._store._checkpointer.wait(2, timeout=300)
        assert _rows_in_database_file(path, tmp_path / "copy.sqlite") >= 2 * EVERY
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


#: Holds SQLite's checkpoint lock of a WAL database from another process, as a process
#: checkpointing does: byte 120 + 1 of the ``-shm`` file (unix VFS, ``WAL_CKPT_LOCK``).
_HOLD_CHECKPOINT_LOCK = """
import fcntl, sys, time
with open(sys.argv[1], "r+b") as shm:
    fcntl.lockf(shm, fcntl.LOCK_EX, 1, 121)
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _another_process_checkpoints(path: Path, seconds: float) -> subprocess.Popen[str]:
    shm = path.with_name(path.name + "-shm")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_CHECKPOINT_LOCK, str(shm), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


def _outbox_with_space_to_give_back(path: Path) -> Outbox:
    clock = [1_000_000.0]
    outbox = Outbox(path, senders={"dmp": lambda item: "ok"}, clock=lambda: clock[0])
    for i in range(300):
        outbox.enqueue("dmp", f"item-{i}", PAYLOAD * 20)
    assert outbox.run_until_idle(timeout=60)
    clock[0] += 10 * 86400
    assert outbox.drop_payloads(0) == 300
    return outbox


def test_compacting_while_another_process_checkpoints_waits_for_it(tmp_path: Path) -> None:
    """SQLite refuses a second checkpoint at once, without its busy wait: a purge's
    compaction that met another checkpoint (of a process, or of the store's own thread)
    used to leave the file as large as it was, and say nothing."""
    path = tmp_path / "outbox.sqlite"
    with _outbox_with_space_to_give_back(path) as outbox:
        before = _size(path)
        holder = _another_process_checkpoints(path, 0.5)
        try:
            outbox.compact()
        finally:
            holder.wait()
        assert _size(path) < before / 5, (before, _size(path))


def test_compacting_gives_up_with_a_clear_error_when_the_outbox_stays_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "outbox.sqlite"
    monkeypatch.setattr(store, "_COMPACT_PATIENCE", 0.3)
    with _outbox_with_space_to_give_back(path) as outbox:
        holder = _another_process_checkpoints(path, 30)
        try:
            with pytest.raises(OutboxError, match="another process is using the outbox"):
                outbox.compact()
        finally:
            holder.kill()
            holder.wait()
        outbox.compact()  # once it is gone
        assert outbox.counts()[DeliveryState.DELIVERED] == 300


def _size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
