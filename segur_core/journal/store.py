"""The audit journal: an append-only, hash-chained SQLite table.

Every access to patient data and every call to a national service is one record. The
table refuses ``UPDATE`` and ``DELETE`` (triggers), and each record carries the SHA-256
of its canonical content chained to the previous record, so that :meth:`Journal.verify`
detects whoever bypasses the triggers to modify, delete or reorder records. Keyed
checkpoints in another file (:mod:`segur_core.journal.anchor`) pin its length and head,
so that cutting its end, emptying it or rewriting its chain shows too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from segur_core import storage
from segur_core.errors import DurabilityError, SegurError
from segur_core.files import private_file
from segur_core.journal.anchor import Anchor, Checkpoint
from segur_core.journal.chain import GENESIS, link_hash, link_hash_canonical, normalised_details
from segur_core.journal.deferral import take_waiting, wait_or_write
from segur_core.journal.pseudonym import KEY_FILE, Pseudonymiser, load_or_create_key
from segur_core.journal.records import JournalRecord, Problem, ProblemKind, VerifyReport
from segur_core.model import utcnow

__all__ = [
    "Journal",
    "JournalBase",
    "JournalError",
    "JournalStorageError",
    "prepared_entries",
    "storage_error",
]

log = logging.getLogger("segur.audit")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    actor      TEXT,
    patient_id TEXT,
    action     TEXT NOT NULL,
    service    TEXT,
    outcome    TEXT NOT NULL,
    details    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_patient ON records (patient_id, seq);
CREATE TABLE IF NOT EXISTS head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'the audit journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'the audit journal is append-only'); END;
"""

_ENTRY_FIELDS = frozenset({"action", "outcome", "service", "patient_id", "actor", "details"})

_COLUMNS = "seq, at, actor, patient_id, action, service, outcome, details, prev_hash, hash"


class JournalError(SegurError):
    """The journal cannot be used (closed, a record without an action...)."""


class JournalStorageError(JournalError, DurabilityError):
    """The journal's files cannot be opened, read or written (disk full, read-only,
    damaged, not a journal): what was being journaled is not journaled. The message
    names the file and the cause."""


def prepared_entries(
    entries: Sequence[Mapping[str, Any]],
) -> list[tuple[Mapping[str, Any], str, dict[str, Any]]]:
    """Each entry of ``record_many`` with its details normalised (their canonical text and
    value), after checking it names an action and only known fields."""
    prepared = []
    for entry in entries:
        unknown = set(entry) - _ENTRY_FIELDS
        if unknown or not entry.get("action"):
            raise JournalError(
                "a journal record needs an action"
                if not unknown
                else f"unknown journal record fields: {sorted(unknown)}"
            )
        details_text, details_value = normalised_details(entry.get("details"))
        prepared.append((entry, details_text, details_value))
    return prepared


class JournalBase:
    """What a journal does the same way on SQLite and PostgreSQL: one record written as a
    group of one, and records read back in order. A store names its table (``_table``) and
    parameter mark (``_mark``), appends with :meth:`record_many` and reads with ``_query``.
    """

    _table: str
    _mark: str

    def record_many(self, entries: Sequence[Mapping[str, Any]]) -> list[JournalRecord]:
        raise NotImplementedError

    def record_later(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append ``entries`` (checked now) with the next record this thread writes to
        the journal within a :func:`~segur_core.journal.deferral.deferring` scope, in the
        same transaction and before it, or when the scope ends; outside a scope, now.
        Each call of ``segur serve`` is a scope, ended by its ``api.call`` record: a
        handler's records and that one share one commit, durable before the answer.

        Only for records after which nothing happens but other records and the answer
        (nothing a crash could leave done and unrecorded): a record that must be durable
        before a later step is written with :meth:`record_many` before it."""
        prepared = prepared_entries(entries)
        if not wait_or_write(self, prepared):
            self._append_prepared(prepared)

    def _append_prepared(
        self, prepared: list[tuple[Mapping[str, Any], str, dict[str, Any]]]
    ) -> list[JournalRecord]:
        raise NotImplementedError

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def record(
        self,
        action: str,
        *,
        outcome: str = "ok",
        service: str | None = None,
        patient_id: str | None = None,
        actor: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> JournalRecord:
        """Append one record and return it. ``patient_id`` is kept in the journal (it is
        the audit trail) and only ever logged as its pseudonym."""
        entry = dict(
            action=action,
            outcome=outcome,
            service=service,
            patient_id=patient_id,
            actor=actor,
            details=details,
        )
        return self.record_many([entry])[0]

    def records(
        self,
        patient_id: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalRecord]:
        """Records in the order they were written, optionally for one patient, at or
        after ``since``; with ``limit``, only the last ``limit`` of them."""
        clauses, params = self._where(patient_id, since)
        where = " AND ".join(clauses)
        sql = f"SELECT {_COLUMNS} FROM {self._table} WHERE {where} ORDER BY seq"
        if limit is not None:
            sql = (
                f"SELECT * FROM (SELECT {_COLUMNS} FROM {self._table} WHERE {where}"
                f" ORDER BY seq DESC LIMIT {self._mark}) last ORDER BY seq"
            )
            params.append(int(limit))
        return [_to_record(row) for row in self._query(sql, params)]

    def stream(
        self,
        patient_id: str | None = None,
        since: dt.datetime | None = None,
        *,
        about_no_patient: bool = False,
        batch: int = 1000,
    ) -> Iterator[JournalRecord]:
        """The records :meth:`records` gives, in the order they were written, read
        ``batch`` at a time (keyset on ``seq``): memory does not grow with the journal,
        and no read stays open between batches (writers are never held up). With
        ``about_no_patient``, only the records about no patient."""
        clauses, params = self._where(patient_id, since)
        if about_no_patient:
            clauses.append("patient_id IS NULL")
        where = " AND ".join([*clauses, f"seq > {self._mark}"])
        sql = f"SELECT {_COLUMNS} FROM {self._table} WHERE {where} ORDER BY seq LIMIT {self._mark}"
        last = 0
        while True:
            rows = self._query(sql, [*params, last, batch])
            for row in rows:
                yield _to_record(row)
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def _where(
        self, patient_id: str | None, since: dt.datetime | None
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = ["1 = 1"]
        params: list[Any] = []
        if patient_id is not None:
            clauses.append(f"patient_id = {self._mark}")
            params.append(patient_id)
        if since is not None:
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            clauses.append(f"at >= {self._mark}")
            params.append(since.astimezone(dt.UTC).isoformat())
        return clauses, params


class Journal(JournalBase):
    """The append-only audit trail of one installation.

    ``path`` is the SQLite file (0600); the pseudonymisation key is ``pseudonym_key`` or,
    when absent, the file ``pseudonym.key`` beside the journal (created on first use).
    Checkpoints go to ``checkpoints`` (default: the journal's name with ``.checkpoints``),
    keyed with the file ``checkpoint_key`` (default: ``.key`` beside the journal; keep it
    elsewhere, see docs/reliability.md), after every commit group or at most every
    ``checkpoint_interval`` seconds. Thread-safe; several processes may append to the
    same file.
    """

    def __init__(
        self,
        path: Path,
        *,
        pseudonym_key: bytes | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        checkpoints: Path | None = None,
        checkpoint_key: Path | None = None,
        checkpoint_interval: float = 0.0,
    ) -> None:
        self.path = Path(path)
        self._anchor = Anchor(
            checkpoints if checkpoints is not None else self.path.with_suffix(".checkpoints"),
            checkpoint_key if checkpoint_key is not None else self.path.with_suffix(".key"),
            interval=checkpoint_interval,
            clock=clock,
            monotonic=time.monotonic,
        )
        try:
            key = (
                pseudonym_key
                if pseudonym_key is not None
                else load_or_create_key(self.path.parent / KEY_FILE)
            )
        except OSError as exc:
            raise storage_error(self.path.parent / KEY_FILE, "open", exc) from exc
        self._pseudonymise = Pseudonymiser(key)
        self._clock = clock
        self._lock = threading.RLock()
        self._waiting: deque[_Call] = deque()  # calls queued for the next group commit
        self._conn: sqlite3.Connection | None = None
        try:
            private_file(self.path)
            self._conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            raise storage_error(self.path, "open", exc) from exc

    # -- writing ---------------------------------------------------------------------------

    def record_many(self, entries: Sequence[Mapping[str, Any]]) -> list[JournalRecord]:
        """Append several records, in order, in one transaction, and return them.

        Each entry holds the keyword arguments of :meth:`record` (``action`` required).
        Every record is chained to the one before it exactly as if written one by one;
        all are durable when this returns, none is written if one is refused. For
        records of the same operation (an INSi call and the identity change it caused).

        Group commit: calls from several threads that arrive while a transaction is
        being written wait for it, and the next writer appends all of them in one
        transaction (each call's records stay together and in order). A call still
        returns only once its own records are committed. The records this thread left
        waiting (:meth:`record_later`) are written first, in the same transaction.
        """
        return self._append_prepared(prepared_entries(entries))

    def _append_prepared(
        self, prepared: list[tuple[Mapping[str, Any], str, dict[str, Any]]]
    ) -> list[JournalRecord]:
        """Append ``prepared`` after the records waiting for this journal in this
        thread's scope (:meth:`record_later`); return only ``prepared``'s records."""
        held = take_waiting(self)
        call = _Call([*held, *prepared] if held else prepared)
        self._waiting.append(call)  # deque.append is atomic: no lock needed to queue
        with self._lock:
            if not call.settled:  # no writer took it: write it and whatever queued since
                group = []
                while self._waiting:
                    group.append(self._waiting.popleft())
                try:
                    self._write(group, leader=call)
                except (sqlite3.Error, OSError) as exc:
                    raise self._write_error(exc) from exc
        if call.error is not None:
            raise self._write_error(call.error) from call.error
        return self._records(call, skip=len(held))

    def _write_error(self, cause: BaseException) -> JournalError:
        if isinstance(cause, JournalError):
            return cause
        return storage_error(self.path, "write", cause)

    def _write(self, group: list[_Call], *, leader: _Call) -> None:
        """Append the records of ``group`` in one transaction (caller holds the lock).

        The leader's own failure propagates unchanged; the others' calls are marked
        failed and raise a :class:`JournalError` in their own thread.
        """
        try:  # every failure, the clock's too, settles the whole group
            moment = self._clock().astimezone(dt.UTC)
            at = moment.isoformat()
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                prev = row[1] if row else GENESIS
                self._anchor.start(row[0] if row else 0, prev)
                rows: list[tuple[Any, ...]] = []
                links: list[tuple[_Call, str, str]] = []  # per row: its call, prev, hash
                for call in group:
                    call.moment = moment
                    for entry, details_text, _ in call.prepared:
                        actor, patient_id = entry.get("actor"), entry.get("patient_id")
                        action, service = entry["action"], entry.get("service")
                        outcome = entry.get("outcome", "ok")
                        digest = link_hash_canonical(
                            actor=actor,
                            at=at,
                            patient_id=patient_id,
                            action=action,
                            service=service,
                            outcome=outcome,
                            details=details_text,
                            prev_hash=prev,
                        )
                        rows.append((at, actor, patient_id, action, service, outcome,
                                     details_text, prev, digest))  # fmt: skip
                        links.append((call, prev, digest))
                        prev = digest
                seqs = _insert(conn, rows)
                if rows:
                    conn.execute(
                        "INSERT INTO head (id, seq, hash) VALUES (1, ?, ?)"
                        " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                        (seqs[-1], prev),
                    )
                for seq, (call, prev_hash, digest) in zip(seqs, links, strict=True):
                    call.written.append((seq, prev_hash, digest))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite rolls back itself on a full disk
                    with contextlib.suppress(sqlite3.Error):  # the cause is what matters
                        conn.execute("ROLLBACK")
                raise
        except BaseException as exc:
            for call in group:
                call.written.clear()
                call.settled = True
                if call is not leader:
                    call.error = exc
            raise
        for call in group:
            call.settled = True
        if rows:
            try:  # committed: a checkpoint that fails now is written by the next group
                self._anchor.after_commit(seqs[-1], prev, at)
            except OSError as exc:
                log.error("cannot write a journal checkpoint to %s: %s", self._anchor.path, exc)

    def _records(self, call: _Call, *, skip: int = 0) -> list[JournalRecord]:
        """The records ``call`` wrote, but its first ``skip`` (written for others, and
        logged here like the rest: their own calls returned before they were written)."""
        assert call.moment is not None  # set when the call was written
        records = []
        for (entry, _, details_value), (seq, prev_hash, digest) in zip(
            call.prepared, call.written, strict=True
        ):
            if log.isEnabledFor(logging.DEBUG):  # the pseudonym is an HMAC: only when logged
                log.debug(
                    "audit #%s %s service=%s outcome=%s patient=%s",
                    seq,
                    entry["action"],
                    entry.get("service"),
                    entry.get("outcome", "ok"),
                    self.pseudonym(entry.get("patient_id")),
                )
            records.append(
                JournalRecord(
                    seq=seq,
                    at=call.moment,
                    action=entry["action"],
                    outcome=entry.get("outcome", "ok"),
                    service=entry.get("service"),
                    patient_id=entry.get("patient_id"),
                    actor=entry.get("actor"),
                    details=details_value,
                    prev_hash=prev_hash,
                    hash=digest,
                )
            )
        return records[skip:]

    # -- reading ---------------------------------------------------------------------------

    _table = "records"
    _mark = "?"

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._read(sql, params)

    def pseudonym(self, patient_id: str | None) -> str | None:
        """The pseudonym to write to ordinary logs instead of ``patient_id``."""
        return self._pseudonymise(patient_id)

    # -- verification ----------------------------------------------------------------------

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> VerifyReport:
        """Recompute the chain and report every record modified, deleted or reordered;
        check the journal against its checkpoints and ``expect_head`` (a ``(count,
        hash)`` kept elsewhere) for records cut at the end or a chain rewritten."""
        with self._lock:
            rows = self._read(f"SELECT {_COLUMNS} FROM records ORDER BY seq")
            heads = self._read("SELECT seq, hash FROM head WHERE id = 1")
            allocated = self._read("SELECT seq FROM sqlite_sequence WHERE name = 'records'")
            report = _verify(rows, heads[0] if heads else None, allocated[0][0] if allocated else 0)
            last = rows[-1][0] if rows else 0
            try:
                problems, checkpoint, notes = self._anchor.check(
                    {row[0]: row[9] for row in rows}, last, expect=expect_head
                )
            except OSError as exc:
                raise storage_error(self._anchor.path, "read", exc) from exc
        return attrs.evolve(
            report,
            problems=report.problems + _new(report.problems, problems),
            count=last,
            checkpoint=checkpoint.as_dict() if checkpoint is not None else None,
            notes=tuple(notes),
        )

    def head(self) -> tuple[int, str]:
        """The number and hash of the last record (``(0, GENESIS)`` when empty): an anchor
        to keep elsewhere so that even a rewrite of the whole file shows."""
        with self._lock:
            rows = self._read("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1")
        return (rows[0][0], rows[0][1]) if rows else (0, GENESIS)

    def checkpoint(self, *, adopt: bool = False) -> Checkpoint:
        """Write a checkpoint of the journal as it stands. With ``adopt``, vouch for the
        records no checkpoint anchors yet (a journal from before checkpoints, or whose
        checkpoint file was lost): only after checking them some other way."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")  # no writer in between: the head is exact
                try:
                    count, head = self._last(conn)
                    self._anchor.start(count, head)
                    return self._anchor.write(count, head, adopt=adopt)
                finally:
                    conn.execute("ROLLBACK")
            except (sqlite3.Error, OSError) as exc:
                raise storage_error(self.path, "checkpoint", exc) from exc

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database; the journal cannot be used afterwards."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._anchor.flush()
                except OSError as exc:
                    log.error("cannot write a journal checkpoint to %s: %s", self._anchor.path, exc)
                self._anchor.close()
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise JournalError("the audit journal is closed")
        return self._conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query; a storage fault becomes a :class:`JournalError`."""
        try:
            return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise storage_error(self.path, "read", exc) from exc

    @staticmethod
    def _last(conn: sqlite3.Connection) -> tuple[int, str]:
        row = conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)


_INSERT = (
    "INSERT INTO records (at, actor, patient_id, action, service, outcome, details,"
    " prev_hash, hash) VALUES "
)
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
#: Rows per INSERT statement (9 parameters each, well under SQLite's 32,766).
_ROWS_PER_INSERT = 128


def _insert(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert ``rows`` in order with multi-row INSERTs and return their record numbers.

    One statement per 128 rows rather than one per row: each statement is a separate
    step of the database engine, for which the sqlite3 module releases the GIL and
    waits to take it back when other threads are busy. The numbers are consecutive
    within a statement (AUTOINCREMENT, and the caller holds the write transaction)."""
    seqs: list[int] = []
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        sql = _INSERT + ", ".join([_ROW] * len(chunk))
        cursor = conn.execute(sql, [value for row in chunk for value in row])
        last = int(cursor.lastrowid or 0)
        seqs.extend(range(last - len(chunk) + 1, last + 1))
    return seqs


class _Call:
    """One :meth:`Journal.record_many` call waiting for, or written by, a group commit."""

    __slots__ = ("error", "moment", "prepared", "settled", "written")

    def __init__(self, prepared: list[tuple[Mapping[str, Any], str, dict[str, Any]]]) -> None:
        self.prepared = prepared
        self.written: list[tuple[int, str, str]] = []
        self.settled = False
        self.error: BaseException | None = None
        self.moment: dt.datetime | None = None


def _to_record(row: tuple[Any, ...]) -> JournalRecord:
    """A stored row as a record; a row tampered with beyond reading (``at`` not a date,
    ``details`` not a JSON object, a field of the wrong type) comes back marked
    ``damaged``, with what could be read, rather than failing the whole listing."""
    seq, at, actor, patient_id, action, service, outcome, details, prev_hash, digest = row
    damaged: list[str] = []
    try:
        moment: dt.datetime | None = dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        moment = None
        damaged.append("at is not a date")
    try:
        value = json.loads(details)
        if not isinstance(value, dict):
            raise TypeError
    except (TypeError, ValueError, RecursionError):
        value = {}
        damaged.append("details is not a JSON object")
    texts = {"action": action, "outcome": outcome}
    for name, text in texts.items():
        if not isinstance(text, str):
            texts[name] = "" if text is None else str(text)
            damaged.append(f"{name} is not text")
    optional = {"actor": actor, "patient_id": patient_id, "service": service}
    for name, text in optional.items():
        if text is not None and not isinstance(text, str):
            optional[name] = str(text)
            damaged.append(f"{name} is not text")
    return JournalRecord(
        seq=seq,
        at=moment,
        action=texts["action"],
        outcome=texts["outcome"],
        service=optional["service"],
        patient_id=optional["patient_id"],
        actor=optional["actor"],
        details=value,
        prev_hash=prev_hash if isinstance(prev_hash, str) else str(prev_hash),
        hash=digest if isinstance(digest, str) else str(digest),
        damaged=tuple(damaged),
    )


def _new(found: Sequence[Problem], anchored: Sequence[Problem]) -> tuple[Problem, ...]:
    """The problems the checkpoints add to what the chain found: not a record rewritten
    after a record the chain already shows as bad, nor a cut end it already reported."""
    first_bad = min((p.seq for p in found), default=None)
    ends = {p.seq for p in found if p.kind is ProblemKind.DELETED}
    return tuple(
        p
        for p in anchored
        if not (p.kind is ProblemKind.REWRITTEN and first_bad is not None and first_bad <= p.seq)
        and not (p.kind is ProblemKind.DELETED and p.seq in ends)
    )


#: What to do, by what was being done (they replace the hints that go with the cause).
_HINTS = {
    "open": "check the data directory and that the file is a segur journal",
    "read": "restore the journal from a backup; its checkpoints say how many records it held",
    "write": "the records of this operation were not written; free space or fix the "
    "data directory, then retry it",
    "checkpoint": "no checkpoint was written; fix the data directory, then retry",
}


def storage_error(path: Path, doing: str, exc: BaseException) -> JournalStorageError:
    """A :class:`JournalStorageError` naming ``path`` and the cause of ``exc`` (a SQLite or
    OS error) in words."""
    return storage.error(
        JournalStorageError, path, "audit journal", doing, exc, hint=_HINTS.get(doing)
    )


def _verify(
    rows: list[tuple[Any, ...]], head: tuple[int, str] | None, allocated: int
) -> VerifyReport:
    problems: list[Problem] = []
    known = {row[9]: row[0] for row in rows}  # stored hash -> record number
    expected = 1
    prev = GENESIS
    for seq, at, actor, patient_id, action, service, outcome, details, prev_hash, digest in rows:
        gap = seq > expected
        if gap:
            missing = (
                f"record {expected}" if seq == expected + 1 else f"records {expected}-{seq - 1}"
            )
            problems.append(Problem(expected, ProblemKind.DELETED, f"{missing} deleted"))
        try:
            recomputed = link_hash(
                actor=actor,
                at=at,
                patient_id=patient_id,
                action=action,
                service=service,
                outcome=outcome,
                details=details,
                prev_hash=prev_hash,
            )
        except (ValueError, TypeError):
            recomputed = None
        modified = recomputed != digest
        if modified:
            problems.append(
                Problem(seq, ProblemKind.MODIFIED, f"record {seq} does not match its hash")
            )
        if prev_hash != prev and not modified:
            origin = known.get(prev_hash)
            if origin is not None and origin != seq:
                problems.append(
                    Problem(
                        seq,
                        ProblemKind.REORDERED,
                        f"record {seq} was written after record {origin}, "
                        f"not after record {seq - 1}",
                    )
                )
            elif not gap:
                before = f"record {seq - 1}" if seq > 1 else "the start of the journal"
                problems.append(
                    Problem(
                        seq,
                        ProblemKind.BAD_CHAIN,
                        f"record {seq} is not chained to {before}: it was rewritten, or "
                        "records before it were replaced, removed or inserted",
                    )
                )
        prev = digest
        expected = seq + 1
    last = expected - 1
    written = max(allocated, head[0] if head else 0)
    if written > last:
        missing = f"record {written}" if written == last + 1 else f"records {last + 1}-{written}"
        problems.append(Problem(last + 1, ProblemKind.DELETED, f"{missing} deleted at the end"))
    elif head is not None and head[0] == last and head[1] != prev:
        problems.append(
            Problem(last, ProblemKind.BAD_CHAIN, f"record {last} is not the last one written")
        )
    return VerifyReport(checked=len(rows), problems=tuple(problems), head=prev if rows else None)
