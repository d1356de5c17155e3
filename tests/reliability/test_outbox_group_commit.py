"""Group commit in the SQLite outbox: writes queued by several threads while one
transaction is written go into the next one, and each caller returns only once its own
write is committed; a failure fails the whole group, none of it written."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from segur_core.outbox import Outbox
from segur_core.outbox.store import OutboxStorageError

THREADS = 8


class Traced(list):
    """Statements run, in order; ``on`` the number of the connection that ran each."""

    def __init__(self) -> None:
        super().__init__()
        self.on: list[int] = []


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Traced:
    """Every statement the connections opened from now on run."""
    seen = Traced()
    connect = sqlite3.connect
    opened = iter(range(1_000_000))

    def traced(*args, **kwargs):
        conn = connect(*args, **kwargs)
        number = next(opened)

        def record(sql: str) -> None:
            seen.append(sql)
            seen.on.append(number)

        conn.set_trace_callback(record)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    return seen


def _blocked_writers(outbox: Outbox, work) -> tuple[list[threading.Thread], list]:
    """``THREADS`` threads doing ``work(i)`` while the store's write lock is held, so
    that they all queue; started, not released."""
    outcomes: list = [None] * THREADS

    def run(i: int) -> None:
        try:
            outcomes[i] = work(i)
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def _wait_queued(outbox: Outbox, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(outbox._store._waiting) < count:
        assert time.monotonic() < deadline, "the writers did not queue"
        time.sleep(0.005)


def test_writes_queued_meanwhile_share_one_commit_and_each_is_durable_on_return(
    tmp_path: Path, statements: list[str]
) -> None:
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as outbox:
        seen: dict[int, bool] = {}

        def enqueue(i: int):
            delivery = outbox.enqueue("k", f"item-{i}", b"payload")
            with sqlite3.connect(path) as other:  # another connection sees it at once
                row = other.execute("SELECT id FROM deliveries WHERE key = ?", (f"item-{i}",))
                seen[i] = row.fetchone() is not None
            return delivery

        with outbox._store._write_lock:
            threads, outcomes = _blocked_writers(outbox, enqueue)
            _wait_queued(outbox, THREADS)
        for thread in threads:
            thread.join(10)
        assert [d.key for d in outcomes] == [f"item-{i}" for i in range(THREADS)]
        assert seen == dict.fromkeys(range(THREADS), True)
        assert len({d.id for d in outcomes}) == THREADS
        assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
        assert sum(s.startswith("INSERT INTO deliveries") for s in statements) == THREADS


def test_a_failure_in_the_group_fails_every_write_of_it_and_writes_none(tmp_path: Path) -> None:
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        store = outbox._store

        def work(i: int):
            if i == 3:  # a statement SQLite refuses, in the middle of the group
                return store._write("INSERT INTO no_such_table VALUES (1)")
            return outbox.enqueue("k", f"item-{i}", b"payload")

        with store._write_lock:
            threads, outcomes = _blocked_writers(outbox, work)
            _wait_queued(outbox, THREADS)
        for thread in threads:
            thread.join(10)
        assert all(isinstance(o, OutboxStorageError) for o in outcomes), outcomes
        assert outbox.list() == []
        assert outbox.enqueue("k", "after", b"x").id  # the store goes on


def test_the_writes_of_every_thread_run_on_one_connection(
    tmp_path: Path, statements: Traced
) -> None:
    """One page cache for the writes: a commit by another connection would empty it
    (a worker settling while the counter enqueues)."""
    with Outbox(tmp_path / "outbox.sqlite", senders={"k": lambda item: None}) as outbox:
        outbox.start_worker()
        for i in range(20):
            outbox.enqueue("k", f"item-{i}", b"payload")
        assert outbox.run_until_idle(timeout=10)
        outbox.stop_worker()
        writers = {
            on
            for on, sql in zip(statements.on, statements, strict=True)
            if sql.startswith(("INSERT INTO deliveries", "UPDATE deliveries"))
        }
        assert len(writers) == 1


def test_an_enqueue_alone_is_its_row_and_its_payload_in_one_transaction(
    tmp_path: Path, statements: list[str]
) -> None:
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        outbox.enqueue("k", "warm", b"x")
        statements.clear()
        outbox.enqueue("k", "alone", b"x")
        assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
        assert statements[1].startswith("INSERT INTO deliveries")
        assert statements[2].startswith("INSERT INTO payloads")
        assert len(statements) == 4
        statements.clear()
        outbox.enqueue("k", "alone", b"again")  # a key already queued: no payload written
        assert not any(s.startswith("INSERT INTO payloads") for s in statements)
        assert outbox.payload(outbox.find("alone").id) == b"x"


@pytest.mark.parametrize("count", [1, 2])
def test_the_writes_of_a_closed_store_raise(tmp_path: Path, count: int) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    outbox.close()
    with pytest.raises(Exception, match="closed"):
        for i in range(count):
            outbox.enqueue("k", f"x{i}", b"x")
