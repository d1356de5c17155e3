"""Where an outbox item's time goes, beside ``bench_outbox.py``'s ratio.

Four measurements, each printed with the load average:

1. **Statements**: CPU of this thread per item for the store's enqueue, claim (per
   claimed item, batches of 32) and settlement, then the same SQL run bare on the
   store's writing connection, then the enqueue and an attempt (its settlement included)
   with SQLite replaced by a stub: the Python around the statements.
2. **System calls**: what one 24-byte ``pwrite``, one 4 KB ``pwrite`` and one pair of
   ``fcntl`` locks cost here. A WAL commit makes two ``pwrite`` per page (the frame's
   header, then the page) and six ``fcntl`` on the ``-shm`` file (the read mark, the
   read lock, the write lock, taken and released); ``strace -f -c`` counts, per item,
   12 ``pwrite`` for an enqueue with its payload in the row (6 pages: the new leaf, the
   table's interior page, the key index, the due-time index, ``sqlite_sequence``,
   page 1), 4 for a settlement (the leaf, the due-time index) and 2 for its share of a
   claim (its row's page).
3. **Layouts**: the same three statements, bare, with the payload in the ``deliveries``
   row (the layout before 2026-12-02) and in a table of its own keyed by the item's id
   (the store's), for a 2 KB payload (the benchmark's) and a 24 KB one (a note de
   vaccination, ``bench_dmp.py``).
4. **The gap**: this process's CPU for a POST to a receiver in its own process, sent
   right after the previous answer, after a settlement (what the outbox does between
   two sends) and after 50 µs of pure Python: any gap lets the receiver go to sleep,
   and the next request pays for waking it.

Run: ``uv run python tests/benchmarks/bench_outbox_costs.py [ROUNDS]`` (default 8).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from bench_outbox import PAYLOAD, ReceiverProcess
from receiver import KEY_HEADER

from segur_core.model import DeliveryState
from segur_core.outbox import Outbox
from segur_core.outbox.store import _SCHEMA, Claimed

_INSERT = (
    "INSERT INTO deliveries (kind, key, {payload}state, patient_id, created_at, due_at)"
    " VALUES ('http', ?, {mark}'pending', NULL, ?, ?) ON CONFLICT (key) DO NOTHING"
)
_CLAIM = (
    "UPDATE deliveries SET state = 'in-flight', attempts = attempts + 1, lease_owner = 'o',"
    " due_at = ? WHERE id IN (SELECT id FROM deliveries INDEXED BY deliveries_due"
    " WHERE state IN ('pending', 'in-flight') AND due_at <= ? ORDER BY due_at, id LIMIT 32)"
    " RETURNING id, kind, key, {payload}attempts, patient_id,"
    " coalesce(retry_from, created_at)"
)
_PAYLOAD = "INSERT INTO payloads (id, data) VALUES (?, ?)"
_SETTLE = (
    "UPDATE deliveries SET state = 'delivered', result = 'ok', last_error = NULL,"
    " settled_at = ?, due_at = NULL, lease_owner = NULL, notified = 1"
    " WHERE id = ? AND state = 'in-flight' AND lease_owner = 'o'"
)
#: The payload in the ``deliveries`` row, as before 2026-12-02.
_IN_THE_ROW = _SCHEMA.replace("    retry_from  REAL", "    payload     BLOB,\n    retry_from  REAL")


def _insert(conn: sqlite3.Connection, key: str, payload: bytes, now: float) -> None:
    """The store's enqueue, bare: the row and its payload in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    cursor = conn.execute(_INSERT.format(payload="", mark=""), (key, now, now))
    conn.execute(_PAYLOAD, (cursor.lastrowid, payload))
    conn.execute("COMMIT")


def _claim(conn: sqlite3.Connection, now: float) -> list[int]:
    """The store's claim of 32 items, bare: the rows, then their payloads."""
    conn.execute("BEGIN IMMEDIATE")
    ids = [row[0] for row in conn.execute(_CLAIM.format(payload=""), (now + 60, now))]
    if ids:
        marks = ", ".join("?" * len(ids))
        conn.execute(f"SELECT id, data FROM payloads WHERE id IN ({marks})", ids).fetchall()
    conn.execute("COMMIT")
    return ids


class _StubCursor:
    rowcount = 1
    lastrowid = 1

    def fetchall(self) -> list[object]:
        return []


class _StubConnection:
    """Stands for the writing connection: what is left is the store's Python."""

    in_transaction = False

    def execute(self, *args: object) -> _StubCursor:
        return _StubCursor()


def _us(seconds: float, n: int) -> str:
    return f"{seconds / n * 1e6:5.0f} µs"


def statements(rounds: int) -> None:
    """Measurement 1: the store's calls against their bare SQL."""
    took = dict.fromkeys(("enqueue", "claim", "settle", "bare insert", "bare claim",
                          "bare settle", "python enqueue", "python settle"), 0.0)  # fmt: skip
    clock = time.thread_time
    with tempfile.TemporaryDirectory() as tmp:
        outbox = Outbox(Path(tmp) / "outbox.sqlite", senders={"http": lambda item: "ok"})
        store = outbox._store
        writer = store._writer  # type: ignore[attr-defined]
        for r in range(rounds):
            start = clock()
            for i in range(200):
                outbox.enqueue("http", f"s{r}-{i}", PAYLOAD)
            took["enqueue"] += clock() - start
            start = clock()
            items = []
            while batch := store.claim("o", limit=32, lease=60.0, kinds=["http"]):
                items += batch
            took["claim"] += clock() - start
            start = clock()
            for item in items:
                store.settle(item, DeliveryState.DELIVERED, result="ok", notified=True,
                             read_back=False)  # fmt: skip
            took["settle"] += clock() - start
            with store._write_lock:  # type: ignore[attr-defined]
                start = clock()
                for i in range(200):
                    _insert(writer, f"b{r}-{i}", PAYLOAD, time.time())
                took["bare insert"] += clock() - start
                start = clock()
                ids = []
                while batch_ids := _claim(writer, time.time()):
                    ids += batch_ids
                took["bare claim"] += clock() - start
                start = clock()
                for ident in ids:
                    writer.execute(_SETTLE, (time.time(), ident))
                took["bare settle"] += clock() - start
        store._writer = _StubConnection()  # type: ignore[attr-defined]
        start = clock()
        for i in range(200 * rounds):
            outbox.enqueue("http", f"p{i}", PAYLOAD)
        took["python enqueue"] = clock() - start
        start = clock()
        for i in range(200 * rounds):
            outbox._attempt(items[i % len(items)], lambda item: "ok")
        took["python settle"] = clock() - start
        store._writer = writer  # type: ignore[attr-defined]
        outbox.close()
    n = 200 * rounds
    print(f"1. statements, CPU of this thread per item ({n} items, payload {len(PAYLOAD)} B):")
    for name, bare in (("enqueue", "insert"), ("claim", "claim"), ("settle", "settle")):
        print(f"   {name:<8} store {_us(took[name], n)}   bare SQL {_us(took['bare ' + bare], n)}")
    print(f"   Python alone (SQLite stubbed): enqueue {_us(took['python enqueue'], n)}, "
          f"an attempt and its settlement {_us(took['python settle'], n)}")  # fmt: skip


def system_calls() -> None:
    """Measurement 2: a page write, a frame header write and a lock pair."""
    n = 20_000
    with tempfile.TemporaryDirectory() as tmp:
        fd = os.open(Path(tmp) / "calls", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            costs = {}
            for size in (24, 4096):
                data = b"x" * size
                start = time.perf_counter()
                for i in range(n):
                    os.pwrite(fd, data, (i % 64) * 4120)
                costs[f"pwrite {size} B"] = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(n):
                fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 120)
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, 120)
            costs["fcntl lock + unlock"] = time.perf_counter() - start
        finally:
            os.close(fd)
    print("2. system calls (wall, from Python):")
    for name, seconds in costs.items():
        print(f"   {name:<20} {_us(seconds, n)}")


def _layout(path: Path, payload: bytes, own_table: bool, n: int) -> dict[str, float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(_SCHEMA if own_table else _IN_THE_ROW)
    took = {"enqueue": 0.0, "claim": 0.0, "settle": 0.0}
    clock, now = time.thread_time, time.time()
    start = clock()
    for i in range(n):
        if own_table:
            _insert(conn, f"k{i}", payload, now)
        else:
            conn.execute(
                _INSERT.format(payload="payload, ", mark="?, "), (f"k{i}", payload, now, now)
            )
    took["enqueue"] = clock() - start
    ids = []
    start = clock()
    while True:
        if own_table:
            batch = _claim(conn, now + 1)
        else:
            query = _CLAIM.format(payload="payload, ")
            batch = [row[0] for row in conn.execute(query, (now + 61, now + 1)).fetchall()]
        if not batch:
            break
        ids += batch
    took["claim"] = clock() - start
    start = clock()
    for ident in ids:
        conn.execute(_SETTLE, (now, ident))
    took["settle"] = clock() - start
    conn.close()
    return took


def layouts(rounds: int) -> None:
    """Measurement 3: the payload in the row, or in a table of its own."""
    n = 250 * rounds
    print(f"3. layouts, bare SQL, CPU of this thread per item ({n} items):")
    for size in (2000, 24000):
        payload = b"<ClinicalDocument>" + b"x" * size + b"</ClinicalDocument>"
        for own_table in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                took = _layout(Path(tmp) / "outbox.sqlite", payload, own_table, n)
            where = "own table" if own_table else "in the row"
            print(f"   {len(payload):6} B, payload {where:<10} "
                  + "  ".join(f"{k} {_us(v, n)}" for k, v in took.items())
                  + f"  total {_us(sum(took.values()), n)}")  # fmt: skip


def _thread_cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime, usage.ru_stime


def gap(rounds: int) -> None:
    """Measurement 4: a POST's CPU after no gap, after a settlement, after a spin."""

    def spin() -> None:
        until = time.perf_counter() + 50e-6
        while time.perf_counter() < until:
            pass

    n = 200
    with (
        ReceiverProcess() as receiver,
        httpx.Client() as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        outbox = Outbox(Path(tmp) / "outbox.sqlite", senders={"http": lambda item: "ok"})
        store = outbox._store

        def settle(item: Claimed) -> object:
            return store.settle(item, DeliveryState.DELIVERED, result="ok", notified=True,
                                read_back=False)  # fmt: skip

        took = {"back to back": [0.0, 0.0], "after a settlement": [0.0, 0.0],
                "after 50 µs of Python": [0.0, 0.0]}  # fmt: skip
        for r in range(rounds):
            for i in range(n):
                outbox.enqueue("http", f"g{r}-{i}", PAYLOAD)
            items = []
            while batch := store.claim("o", limit=32, lease=60.0, kinds=["http"]):
                items += batch
            between: dict[str, Callable[[Claimed], object]] = {
                "back to back": lambda item: None,
                "after a settlement": settle,
                "after 50 µs of Python": lambda item: spin(),
            }
            for name, then in between.items():
                for i in range(n):
                    user, system = _thread_cpu()
                    answer = client.post(receiver.url, content=PAYLOAD,
                                         headers={KEY_HEADER: f"g{r}-{i}-{len(name)}"})  # fmt: skip
                    answer.raise_for_status()
                    user2, system2 = _thread_cpu()
                    took[name][0] += user2 - user
                    took[name][1] += system2 - system
                    then(items[i])
        outbox.close()
    print(f"4. the gap: CPU of this thread per POST ({n * rounds} each, receiver in a process):")
    for name, (user, system) in took.items():
        print(f"   {name:<22} user {_us(user, n * rounds)}  system {_us(system, n * rounds)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="?", type=int, default=8)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    statements(args.rounds)
    system_calls()
    layouts(args.rounds)
    gap(args.rounds)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
