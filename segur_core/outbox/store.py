"""The outbox table: durable SQLite (WAL) storage of deliveries and their states.

Every state change is one fenced SQL statement: an item is claimed by setting it
``in-flight`` with a lease owner and a lease expiry, and only the owner of the current
lease can settle it or put it back to ``pending``. A worker that dies leaves its items
``in-flight``; once the lease expires another worker claims them again. ``due_at`` is
when a pending item may be attempted, or when the lease of an in-flight item expires.

Payloads live in a table of their own (``payloads``, keyed by the delivery's id), written
with their delivery in one transaction: SQLite writes a row again whole at every update,
so a payload in the ``deliveries`` row was copied into the WAL at the claim and again at
the settlement (a 24 KB note de vaccination three times over, a document with its PDF
rendering by the megabyte). A file written before keeps its payloads in the row until it
is opened: they are moved in one transaction (:func:`_move_payloads`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from segur_core import storage
from segur_core.errors import DurabilityError, SegurError
from segur_core.files import private_file
from segur_core.model import Delivery, DeliveryState
from segur_core.outbox.checkpoint import BACKSTOP, Checkpointer

__all__ = ["Claimed", "OutboxError", "OutboxStorageError", "OutboxStore", "UnknownDeliveryError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL UNIQUE,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    result      TEXT,
    patient_id  TEXT,
    created_at  REAL NOT NULL,
    settled_at  REAL,
    due_at      REAL,
    lease_owner TEXT,
    notified    INTEGER NOT NULL DEFAULT 0,
    retry_from  REAL  -- when an operator's retry restarted the horizon (else created_at)
);
CREATE TABLE IF NOT EXISTS payloads (
    id          INTEGER PRIMARY KEY,  -- the delivery's, absent once dropped (retention)
    data        BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS deliveries_payload AFTER DELETE ON deliveries
    BEGIN DELETE FROM payloads WHERE id = old.id; END;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (due_at, id)
    WHERE state IN ('pending', 'in-flight');
CREATE INDEX IF NOT EXISTS deliveries_unnotified ON deliveries (settled_at)
    WHERE notified = 0 AND state IN ('delivered', 'dead');
"""

_FIELDS = "id, kind, key, state, attempts, last_error, created_at, settled_at, patient_id, result"
_UNSETTLED = "state IN ('pending', 'in-flight')"
#: Unsettled items through the partial index on ``due_at`` (the planner would otherwise
#: pick the state index and sort every pending row at each claim).
_DUE = "deliveries INDEXED BY deliveries_due"
log = logging.getLogger("segur.outbox")
_MAX_TEXT = 2000
#: Ids per ``IN (...)`` list (SQLite allows 32,766 parameters; claims take far fewer).
_IDS_AT_ONCE = 500
#: A step run after a write's statement, in its transaction.
_Then = Callable[[sqlite3.Connection, "_Write"], None]
#: Seconds :meth:`OutboxStore.compact` waits for a checkpoint of another process.
_COMPACT_PATIENCE = 30.0


class OutboxError(SegurError):
    """An outbox operation is not possible (unknown item, wrong state, bad key...)."""


class UnknownDeliveryError(OutboxError, LookupError):
    """No outbox item has this id."""


class OutboxStorageError(OutboxError, DurabilityError):
    """The outbox file cannot be read or written (disk full, read-only, damaged): what
    was being queued or settled did not happen. The message names the file and the cause."""


def storage_error(path: Path, doing: str, exc: sqlite3.Error) -> OutboxStorageError:
    """An :class:`OutboxStorageError` naming ``path`` and the cause of ``exc``."""
    return storage.error(OutboxStorageError, path, "outbox", doing, exc)


@attrs.frozen
class Claimed:
    """An item handed to a sender (see :class:`segur_core.plugin.OutboxItem`).
    ``attempts`` counts the attempts made so far, this one included."""

    id: int
    kind: str
    key: str
    payload: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    attempts: int
    patient_id: str | None = attrs.field(default=None, repr=False)
    owner: str = attrs.field(default="", repr=False)
    #: When the retry horizon started (queued, or retried by an operator), clock time.
    queued_at: float = attrs.field(default=0.0, repr=False)


def _when(value: float | None) -> dt.datetime | None:
    return None if value is None else _stamp(value)


def _stamp(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _delivery(row: Sequence[Any]) -> Delivery:
    ident, kind, key, state, attempts, error, created, settled, patient_id, result = row
    return Delivery(
        id=ident,
        kind=kind,
        key=key,
        state=DeliveryState(state),
        attempts=attempts,
        last_error=error,
        created_at=_stamp(created),
        settled_at=_when(settled),
        patient_id=patient_id,
        result=result,
    )


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= _MAX_TEXT:
        return text
    return text[: _MAX_TEXT - 1] + "…"


def _no_kinds(kinds: Iterable[str] | None) -> bool:
    """Whether an explicit, empty set of kinds was given (no sender: nothing is due)."""
    return kinds is not None and not tuple(kinds)


class DeliveryReads:
    """The read queries of an outbox store, written once for SQLite and PostgreSQL.

    A store names its table (``_table``), what its due-time queries read from (``_due``:
    SQLite names its index), its parameter mark (``_mark``) and how it selects a set of
    kinds (:meth:`_kinds`); it runs the queries with ``_one`` and ``_rows``.
    """

    _table: str
    _due: str
    _mark: str

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _kinds(self, kinds: Iterable[str]) -> tuple[str, list[Any]]:
        """The ``AND kind …`` clause selecting ``kinds``, and its parameters."""
        raise NotImplementedError

    def get(self, ident: int) -> Delivery:
        row = self._one(f"SELECT {_FIELDS} FROM {self._table} WHERE id = {self._mark}", (ident,))
        if row is None:
            raise UnknownDeliveryError(f"there is no outbox delivery {ident}")
        return _delivery(row)

    def payload(self, ident: int) -> bytes:
        row = self._one(f"SELECT payload FROM {self._table} WHERE id = {self._mark}", (ident,))
        if row is None:
            raise UnknownDeliveryError(f"there is no outbox delivery {ident}")
        return bytes(row[0])

    def find(self, key: str) -> Delivery | None:
        row = self._one(f"SELECT {_FIELDS} FROM {self._table} WHERE key = {self._mark}", (key,))
        return None if row is None else _delivery(row)

    def list(
        self,
        state: DeliveryState | None = None,
        *,
        kind: str | None = None,
        limit: int | None = None,
    ) -> list[Delivery]:
        clauses: list[str] = ["1 = 1"]
        params: list[Any] = []
        if state is not None:
            clauses.append(f"state = {self._mark}")
            params.append(str(DeliveryState(state)))
        if kind is not None:
            clauses.append(f"kind = {self._mark}")
            params.append(kind)
        where = " AND ".join(clauses)
        sql = f"SELECT {_FIELDS} FROM {self._table} WHERE {where} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {self._mark}"
            params.append(int(limit))
        return [_delivery(row) for row in self._rows(sql, params)]

    def counts(self) -> dict[DeliveryState, int]:
        rows = self._rows(f"SELECT state, count(*) FROM {self._table} GROUP BY state")
        counts = dict.fromkeys(DeliveryState, 0)
        counts.update({DeliveryState(state): n for state, n in rows})
        return counts

    def unsettled(self, kinds: Iterable[str] | None = None) -> int:
        if _no_kinds(kinds):
            return 0
        clause, params = ("", []) if kinds is None else self._kinds(kinds)
        row = self._one(f"SELECT count(*) FROM {self._due} WHERE {_UNSETTLED}{clause}", params)
        return int(row[0])

    def next_due(self, kinds: Iterable[str] | None = None) -> float | None:
        """When the next unsettled item becomes due (clock time), or ``None``."""
        if _no_kinds(kinds):
            return None
        clause, params = ("", []) if kinds is None else self._kinds(kinds)
        row = self._one(f"SELECT min(due_at) FROM {self._due} WHERE {_UNSETTLED}{clause}", params)
        return None if row[0] is None else float(row[0])


class OutboxStore(DeliveryReads):
    """SQLite storage of the outbox: one connection per thread, WAL, ``synchronous=NORMAL``
    (a commit survives a process crash; a power cut may lose the last commits but never
    corrupts the file); the WAL is checkpointed by a thread of the store
    (:mod:`~segur_core.outbox.checkpoint`)."""

    _table = "deliveries"
    _due = _DUE
    _mark = "?"

    def _kinds(self, kinds: Iterable[str]) -> tuple[str, list[Any]]:
        chosen = sorted(kinds)
        return f" AND kind IN ({', '.join('?' * len(chosen))})", list(chosen)

    def __init__(self, path: Path, *, clock: Callable[[], float]) -> None:
        self.path = Path(path)
        private_file(self.path)  # 0600, and so its -wal and -shm: it holds CDA and INS
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._waiting: deque[_Write] = deque()  # statements queued for the next commit
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        self._checkpointer = Checkpointer(self.path, self._connect, self._write_lock)
        with self._guard("open"):
            #: Every write of this process runs on this connection, under the write lock:
            #: one page cache, which a commit by another connection would empty.
            self._writer = conn = self._open()
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # a new file: purge gives space back
            conn.executescript(_SCHEMA)
            _upgrade(conn)

    @contextlib.contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn a SQLite failure into an :class:`OutboxStorageError` naming the file."""
        try:
            yield
        except sqlite3.Error as exc:
            raise storage_error(self.path, doing, exc) from exc

    # -- connections -----------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, for reading."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

    def _open(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise OutboxError("the outbox is closed")
            conn = self._connect()
            self._connections.append(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP}")  # the checkpointer's backstop
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of a reading statement."""
        try:  # not self._guard: a generator context costs more than the statement here
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise storage_error(self.path, "read", exc) from exc

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row, reading the statement to its end (so that it commits)."""
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _write(
        self, sql: str, params: Sequence[Any] = (), *, doing: str = "write to"
    ) -> tuple[list[Any], int]:
        """Run one writing statement to its end: its rows and the number of rows changed."""
        write = self._run(sql, params, doing)
        return write.rows, write.count

    def _run(
        self,
        sql: str,
        params: Sequence[Any],
        doing: str,
        then: _Then | None = None,
    ) -> _Write:
        """Run one writing statement to its end on the writing connection.

        Writers of this process take turns on a lock: SQLite's own busy wait sleeps in
        steps of milliseconds, far longer than a write takes. Other processes still
        meet the busy timeout. Group commit: the statements other threads queue while a
        transaction is being written go into the next writer's transaction, one commit
        for all (a worker settling while the counter enqueues); each call returns only
        once its own statement is committed, and a storage failure fails every
        statement of its group (none of them happened)."""
        if self._closed:
            raise OutboxError("the outbox is closed")
        write = _Write(sql, params, then)
        self._waiting.append(write)  # deque.append is atomic
        with self._write_lock:
            if not write.done:  # no writer took it: write it and whatever queued since
                group = []
                while self._waiting:
                    group.append(self._waiting.popleft())
                _commit(self._writer, group)
                self._checkpointer.committed()
        if write.error is not None:
            raise storage_error(self.path, doing, write.error) from write.error
        return write

    def _write_one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows, _count = self._write(sql, params)
        return rows[0] if rows else None

    def payload(self, ident: int) -> bytes:
        """The payload of ``ident``; empty once dropped after its retention."""
        row = self._one(
            "SELECT d.id, p.data FROM deliveries d LEFT JOIN payloads p ON p.id = d.id"
            " WHERE d.id = ?",
            (ident,),
        )
        if row is None:
            raise UnknownDeliveryError(f"there is no outbox delivery {ident}")
        return b"" if row[1] is None else bytes(row[1])

    def close(self) -> None:
        self._checkpointer.close()
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    # -- writing ---------------------------------------------------------------------------

    def insert(
        self, kind: str, key: str, payload: bytes, patient_id: str | None
    ) -> tuple[Delivery, bool]:
        """Add an item unless ``key`` is already there; return it and whether it is new."""
        now = self._clock()

        def store_payload(conn: sqlite3.Connection, write: _Write) -> None:
            if write.count == 1:  # a new delivery, not a key already queued
                conn.execute(
                    "INSERT INTO payloads (id, data) VALUES (?, ?)", (write.rowid, payload)
                )

        write = self._run(  # its id from the connection, not RETURNING: one step, not two
            "INSERT INTO deliveries (kind, key, state, patient_id, created_at, due_at)"
            " VALUES (?, ?, 'pending', ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (kind, key, patient_id, now, now),
            "queue a delivery in",
            store_payload,
        )
        if write.count == 1 and write.rowid is not None:
            delivery = Delivery(
                id=write.rowid,
                kind=kind,
                key=key,
                state=DeliveryState.PENDING,
                created_at=_stamp(now),
                patient_id=patient_id,
            )
            return delivery, True
        existing = self.find(key)
        if existing is None:  # pragma: no cover - a purge raced with the insert
            return self.insert(kind, key, payload, patient_id)
        if existing.kind != kind:
            raise OutboxError(
                f"idempotency key {key!r} is already used by a {existing.kind!r} delivery",
                hint="keys must be unique across delivery kinds; prefix them with the kind",
            )
        return existing, False

    def claim(
        self, owner: str, *, limit: int, lease: float, kinds: Iterable[str] | None = None
    ) -> list[Claimed]:
        """Take up to ``limit`` due items (pending and due, or in-flight with an expired
        lease) for ``owner``, counting one more attempt for each."""
        if _no_kinds(kinds):
            return []  # nobody sends anything: nothing to claim
        now = self._clock()
        clause, params = ("", []) if kinds is None else self._kinds(kinds)
        payloads: dict[int, bytes] = {}

        def read_payloads(conn: sqlite3.Connection, write: _Write) -> None:
            ids = [row[0] for row in write.rows]
            for start in range(0, len(ids), _IDS_AT_ONCE):
                chosen = ids[start : start + _IDS_AT_ONCE]
                marks = ", ".join("?" * len(chosen))
                payloads.update(
                    conn.execute(f"SELECT id, data FROM payloads WHERE id IN ({marks})", chosen)
                )
            if len(payloads) != len(ids):  # rolls the claim back: nothing is sent empty
                raise sqlite3.DatabaseError(
                    f"the payload of deliveries {sorted(set(ids) - payloads.keys())} is missing"
                )

        write = self._run(
            "UPDATE deliveries SET state = 'in-flight', attempts = attempts + 1,"
            " lease_owner = ?, due_at = ?"
            f" WHERE id IN (SELECT id FROM {_DUE}"
            f"  WHERE {_UNSETTLED} AND due_at <= ?{clause} ORDER BY due_at, id LIMIT ?)"
            " RETURNING id, kind, key, attempts, patient_id, coalesce(retry_from, created_at)",
            (owner, now + lease, now, *params, limit),
            "claim deliveries in",
            read_payloads,
        )
        rows = sorted(write.rows)
        return [
            Claimed(
                id=i, kind=k, key=key, payload=bytes(payloads[i]), attempts=a, patient_id=pid,
                owner=owner, queued_at=since,
            )
            for i, k, key, a, pid, since in rows
        ]  # fmt: skip

    def extend(self, ids: Sequence[int], owner: str, lease: float) -> set[int]:
        """Extend the lease of ``owner`` on ``ids``; return the ids it still holds."""
        if not ids:
            return set()
        until = self._clock() + lease
        marks = ", ".join("?" * len(ids))
        rows, _count = self._write(
            f"UPDATE deliveries SET due_at = ? WHERE id IN ({marks})"
            " AND state = 'in-flight' AND lease_owner = ? RETURNING id",
            (until, *ids, owner),
        )
        return {row[0] for row in rows}

    def settle(
        self,
        item: Claimed,
        state: DeliveryState,
        *,
        result: str | None = None,
        error: str | None = None,
        notified: bool = False,
        read_back: bool = True,
    ) -> Delivery | bool | None:
        """Move an item its owner holds to DELIVERED or DEAD and return it (``True``
        without ``read_back``). ``None`` when the lease was lost (another worker took the
        item over and will settle it)."""
        if not state.settled:
            raise OutboxError(f"{state} is not a final state")
        rows, count = self._write(
            "UPDATE deliveries SET state = ?, result = ?, last_error = ?, settled_at = ?,"
            " due_at = NULL, lease_owner = NULL, notified = ?"
            " WHERE id = ? AND state = 'in-flight' AND lease_owner = ?"
            + (f" RETURNING {_FIELDS}" if read_back else ""),
            (
                str(state),
                _clip(result),
                _clip(error),
                self._clock(),
                int(notified),
                item.id,
                item.owner,
            ),
        )
        if not count:
            return None
        return _delivery(rows[0]) if read_back else True

    def reschedule(self, item: Claimed, delay: float, error: str) -> bool:
        """Put an item its owner holds back to PENDING, due after ``delay`` seconds."""
        _rows, count = self._write(
            "UPDATE deliveries SET state = 'pending', due_at = ?, last_error = ?,"
            " lease_owner = NULL WHERE id = ? AND state = 'in-flight' AND lease_owner = ?",
            (self._clock() + delay, _clip(error), item.id, item.owner),
        )
        return count == 1

    def mark_notified(self, ident: int) -> bool:
        """Record that the settlement of ``ident`` was announced; ``False`` if it already was."""
        _rows, count = self._write(
            "UPDATE deliveries SET notified = 1 WHERE id = ? AND notified = 0", (ident,)
        )
        return count == 1

    def unnotified(self, settled_before: float) -> list[Delivery]:
        """Settled items whose settlement was never announced (their worker died)."""
        rows = self._rows(
            f"SELECT {_FIELDS} FROM deliveries WHERE notified = 0"
            " AND state IN ('delivered', 'dead') AND settled_at < ? ORDER BY id",
            (settled_before,),
        )
        return [_delivery(row) for row in rows]

    def retry(self, ident: int) -> Delivery:
        """A dead item back to PENDING with a fresh attempt budget and horizon, or a
        pending one due now."""
        now = self._clock()
        row = self._write_one(
            "UPDATE deliveries SET state = 'pending', due_at = ?,"
            " attempts = CASE state WHEN 'dead' THEN 0 ELSE attempts END,"
            " retry_from = CASE state WHEN 'dead' THEN ? ELSE retry_from END,"
            " settled_at = NULL, notified = 0"
            " WHERE id = ? AND state IN ('dead', 'pending')"
            f" RETURNING {_FIELDS}",
            (now, now, ident),
        )
        if row is not None:
            return _delivery(row)
        current = self.get(ident)
        raise OutboxError(
            f"delivery {ident} is {current.state}: only dead or pending deliveries can be retried"
        )

    def purge(self, state: DeliveryState, older_than: float | None) -> int:
        """Delete settled items in ``state`` settled more than ``older_than`` seconds ago."""
        if not state.settled:
            raise OutboxError(
                f"cannot purge {state} deliveries: only delivered or dead ones can be purged"
            )
        cutoff = self._clock() - (older_than or 0.0)
        _rows, count = self._write(
            "DELETE FROM deliveries WHERE state = ? AND settled_at <= ?", (str(state), cutoff)
        )
        return count

    def drop_payloads(self, settled_before: float, *, batch: int = 2000) -> int:
        """Delete the payload of delivered items settled before ``settled_before`` (their
        record stays); return how many. Only the payloads still held are read, in id
        order, in transactions of ``batch`` items so that other writers wait little;
        the pages they free are given back by :meth:`compact`."""
        dropped = last = 0
        while True:
            with self._guard("drop payloads in"), self._write_lock:
                conn = self._writer
                conn.execute("BEGIN IMMEDIATE")
                try:
                    ids = conn.execute(
                        "SELECT p.id FROM payloads p JOIN deliveries d ON d.id = p.id"
                        " WHERE p.id > ? AND d.state = 'delivered' AND d.settled_at < ?"
                        " ORDER BY p.id LIMIT ?",
                        (last, settled_before, batch),
                    ).fetchall()
                    conn.executemany("DELETE FROM payloads WHERE id = ?", ids)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            dropped += len(ids)
            if len(ids) < batch:
                return dropped
            last = ids[-1][0]

    def compact(self) -> None:
        """Give the file's free pages back to the file system (and empty the WAL). A file
        made before incremental auto-vacuum is rewritten once (``VACUUM``)."""
        with self._guard("compact"), self._write_lock, self._checkpointer.paused():
            conn = self._writer
            if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("VACUUM")
            else:
                conn.execute("PRAGMA incremental_vacuum").fetchall()
            deadline = time.monotonic() + _COMPACT_PATIENCE
            while conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
                # a checkpoint of another process, or its reader past the busy timeout
                if time.monotonic() >= deadline:
                    raise OutboxError(
                        f"could not give the space of {self.path} back: another process"
                        " is using the outbox",
                        hint="run the purge again when the other process is idle",
                    )
                time.sleep(0.05)


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring an outbox written by an earlier segur to this layout, in one transaction
    (another process opening it at the same time waits, then finds it done)."""

    def columns() -> set[str]:
        return {row[1] for row in conn.execute("PRAGMA table_info(deliveries)")}

    found = columns()
    if "retry_from" in found and "payload" not in found:
        return  # the usual case: no transaction
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = columns()
        if "retry_from" not in found:  # segur 0.1
            conn.execute("ALTER TABLE deliveries ADD COLUMN retry_from REAL")
        if "payload" in found:
            _move_payloads(conn)
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def _move_payloads(conn: sqlite3.Connection) -> None:
    """Move payloads from the ``deliveries`` rows to ``payloads`` (a delivered one that
    is empty was dropped after its retention: it stays dropped)."""
    moved = conn.execute(
        "INSERT INTO payloads (id, data) SELECT id, payload FROM deliveries"
        " WHERE state != 'delivered' OR length(payload) > 0"
    ).rowcount
    conn.execute("ALTER TABLE deliveries DROP COLUMN payload")
    log.info("outbox: %d payloads moved to a table of their own (once, on upgrade)", moved)


class _Write:
    """One statement waiting for, or written by, a group commit; ``then`` runs right
    after it, in the same transaction (its payload written with a new delivery)."""

    __slots__ = ("count", "done", "error", "params", "rowid", "rows", "sql", "then")

    def __init__(self, sql: str, params: Sequence[Any], then: _Then | None) -> None:
        self.sql, self.params, self.then = sql, params, then
        self.rows: list[Any] = []
        self.count = 0
        self.rowid: int | None = None  # of an insert
        self.done = False
        self.error: sqlite3.Error | None = None


def _commit(conn: sqlite3.Connection, group: list[_Write]) -> None:
    """Run the statements of ``group`` and commit them: a statement alone in autocommit,
    several (or one with a ``then``) in one transaction. Failures are recorded on the
    writes, for each caller to raise."""
    transaction = len(group) > 1 or group[0].then is not None
    try:
        if transaction:
            conn.execute("BEGIN IMMEDIATE")
        for write in group:
            cursor = conn.execute(write.sql, write.params)
            write.rows, write.count = cursor.fetchall(), cursor.rowcount
            write.rowid = cursor.lastrowid
            if write.then is not None:
                write.then(conn, write)
        if transaction:
            conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:  # SQLite rolls back by itself on a full disk
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        failure = exc if isinstance(exc, sqlite3.Error) else sqlite3.OperationalError("interrupted")
        for write in group:
            write.rows, write.count, write.done, write.error = [], 0, True, failure
        if failure is not exc:
            raise  # the leader's interruption; the others raise a storage error
        return
    for write in group:
        write.done = True
