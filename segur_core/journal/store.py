"""The audit journal: an append-only, hash-chained SQLite table.

Every access to patient data and every call to a national service is one record. The
table refuses ``UPDATE`` and ``DELETE`` (triggers), and each record carries the SHA-256
of its canonical content chained to the previous record, so that :meth:`Journal.verify`
detects whoever bypasses the triggers to modify, delete or reorder records.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from segur_core.errors import SegurError
from segur_core.journal.chain import GENESIS, link_hash, link_hash_canonical, normalised_details
from segur_core.journal.pseudonym import KEY_FILE, Pseudonymiser, load_or_create_key
from segur_core.journal.records import JournalRecord, Problem, ProblemKind, VerifyReport
from segur_core.model import utcnow

__all__ = ["Journal", "JournalError"]

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
    """The journal cannot be opened or written (closed, not a journal, disk full...)."""


class Journal:
    """The append-only audit trail of one installation.

    ``path`` is the SQLite file; the pseudonymisation key is ``pseudonym_key`` or, when
    absent, the file ``pseudonym.key`` beside the journal (created on first use).
    Thread-safe; several processes may append to the same file.
    """

    def __init__(
        self,
        path: Path,
        *,
        pseudonym_key: bytes | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = (
            pseudonym_key
            if pseudonym_key is not None
            else load_or_create_key(self.path.parent / KEY_FILE)
        )
        self._pseudonymise = Pseudonymiser(key)
        self._clock = clock
        self._lock = threading.RLock()
        self._waiting: deque[_Call] = deque()  # calls queued for the next group commit
        try:
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise JournalError(
                f"cannot open the audit journal {self.path}: {exc}",
                hint="check the data directory and that the file is a segur journal",
            ) from exc

    # -- writing ---------------------------------------------------------------------------

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

    def record_many(self, entries: Sequence[Mapping[str, Any]]) -> list[JournalRecord]:
        """Append several records, in order, in one transaction, and return them.

        Each entry holds the keyword arguments of :meth:`record` (``action`` required).
        Every record is chained to the one before it exactly as if written one by one;
        all are durable when this returns, none is written if one is refused. For
        records of the same operation (an INSi call and the identity change it caused).

        Group commit: calls from several threads that arrive while a transaction is
        being written wait for it, and the next writer appends all of them in one
        transaction (each call's records stay together and in order). A call still
        returns only once its own records are committed.
        """
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
        call = _Call(prepared)
        self._waiting.append(call)  # deque.append is atomic: no lock needed to queue
        with self._lock:
            if not call.settled:  # no writer took it: write it and whatever queued since
                group = []
                while self._waiting:
                    group.append(self._waiting.popleft())
                self._write(group, leader=call)
        if call.error is not None:
            raise JournalError(
                f"the audit journal could not be written: {call.error}",
                hint="the records of this operation were not written; retry it",
            ) from call.error
        return self._records(call)

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
                row = conn.execute("SELECT hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
                prev = row[0] if row else GENESIS
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

    def _records(self, call: _Call) -> list[JournalRecord]:
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
        return records

    # -- reading ---------------------------------------------------------------------------

    def records(
        self,
        patient_id: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalRecord]:
        """Records in the order they were written, optionally for one patient, at or
        after ``since``; with ``limit``, only the last ``limit`` of them."""
        clauses: list[str] = []
        params: list[Any] = []
        if patient_id is not None:
            clauses.append("patient_id = ?")
            params.append(patient_id)
        if since is not None:
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            clauses.append("at >= ?")
            params.append(since.astimezone(dt.UTC).isoformat())
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_COLUMNS} FROM records{where} ORDER BY seq"
        if limit is not None:
            sql = f"SELECT * FROM (SELECT {_COLUMNS} FROM records{where}"
            sql += " ORDER BY seq DESC LIMIT ?) ORDER BY seq"
            params.append(int(limit))
        with self._lock:
            rows = self._connection().execute(sql, params).fetchall()
        return [_to_record(row) for row in rows]

    def pseudonym(self, patient_id: str | None) -> str | None:
        """The pseudonym to write to ordinary logs instead of ``patient_id``."""
        return self._pseudonymise(patient_id)

    # -- verification ----------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Recompute the chain and report every record modified, deleted or reordered."""
        with self._lock:
            conn = self._connection()
            rows = conn.execute(f"SELECT {_COLUMNS} FROM records ORDER BY seq").fetchall()
            head = conn.execute("SELECT seq, hash FROM head WHERE id = 1").fetchone()
            allocated = conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'records'"
            ).fetchone()
        return _verify(rows, head, allocated[0] if allocated else 0)

    def head(self) -> tuple[int, str]:
        """The number and hash of the last record (``(0, GENESIS)`` when empty): an anchor
        to keep elsewhere so that even a rewrite of the whole file shows."""
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1")
                .fetchone()
            )
        return (row[0], row[1]) if row else (0, GENESIS)

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database; the journal cannot be used afterwards."""
        with self._lock:
            if self._conn is not None:
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
    seq, at, actor, patient_id, action, service, outcome, details, prev_hash, digest = row
    return JournalRecord(
        seq=seq,
        at=dt.datetime.fromisoformat(at),
        action=action,
        outcome=outcome,
        service=service,
        patient_id=patient_id,
        actor=actor,
        details=json.loads(details),
        prev_hash=prev_hash,
        hash=digest,
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
