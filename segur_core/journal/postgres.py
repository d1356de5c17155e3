"""The audit journal on PostgreSQL: one hash chain per pharmacy.

Each pharmacy (tenant) has its own chain, numbered from 1, and a head row holding the
number and hash of its last record. A writer locks its tenant's head row
(``SELECT ... FOR UPDATE``) for the length of its transaction: writers of one pharmacy,
on any machine, append one after the other; writers of different pharmacies never wait
for each other. Records refuse ``UPDATE``, ``DELETE`` and ``TRUNCATE`` (a trigger), the
application's role may only read and insert them, and row-level security keeps each
pharmacy to its own records (:mod:`segur_core.postgres`). Verification is the SQLite
journal's (:func:`segur_core.journal.store._verify`): the head row counts the records
written, so that cutting the end shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import psycopg

from segur_core.journal.chain import GENESIS, link_hash_canonical
from segur_core.journal.deferral import take_waiting
from segur_core.journal.pseudonym import KEY_FILE, Pseudonymiser, load_or_create_key
from segur_core.journal.records import JournalRecord, Problem, ProblemKind, VerifyReport
from segur_core.journal.store import (
    JournalBase,
    JournalError,
    JournalStorageError,
    _verify,
    prepared_entries,
)
from segur_core.model import utcnow
from segur_core.postgres import describe, grant, migrate, open_pool, storage_error, tenant_table

__all__ = ["MIGRATIONS", "PostgresJournal"]

MIGRATIONS: tuple[str, ...] = (
    # 1: records and heads, one chain per tenant, append-only
    f"""
    CREATE TABLE journal_records (
        tenant     TEXT NOT NULL DEFAULT current_setting('app.tenant'),
        seq        BIGINT NOT NULL,
        at         TEXT NOT NULL,
        actor      TEXT,
        patient_id TEXT,
        action     TEXT NOT NULL,
        service    TEXT,
        outcome    TEXT NOT NULL,
        details    TEXT NOT NULL,
        prev_hash  TEXT NOT NULL,
        hash       TEXT NOT NULL,
        PRIMARY KEY (tenant, seq)
    );
    CREATE INDEX journal_records_patient ON journal_records (tenant, patient_id, seq);
    CREATE TABLE journal_heads (
        tenant TEXT PRIMARY KEY DEFAULT current_setting('app.tenant'),
        seq    BIGINT NOT NULL,
        hash   TEXT NOT NULL
    );
    CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN RAISE EXCEPTION 'the audit journal is append-only'; END $body$;
    CREATE TRIGGER journal_records_no_change BEFORE UPDATE OR DELETE ON journal_records
        FOR EACH ROW EXECUTE FUNCTION journal_append_only();
    CREATE TRIGGER journal_records_no_truncate BEFORE TRUNCATE ON journal_records
        FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
    {tenant_table("journal_records", "SELECT, INSERT")}
    {tenant_table("journal_heads", "SELECT, INSERT, UPDATE")}
    {grant("REVOKE TRUNCATE ON journal_records FROM segur_app")};
    """,
)

_COLUMNS = "seq, at, actor, patient_id, action, service, outcome, details, prev_hash, hash"
_INSERT = (
    "INSERT INTO journal_records (seq, at, actor, patient_id, action, service, outcome,"
    " details, prev_hash, hash) VALUES"
)
_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
#: Rows per INSERT statement (10 parameters each, well under PostgreSQL's 65,535).
_ROWS_PER_INSERT = 1000


class PostgresJournal(JournalBase):
    """The audit trail of one pharmacy (``tenant``, its FINESS) in the database at
    ``url``. ``pseudonym_key``: the key of the pseudonyms written to ordinary logs
    (default: ``pseudonym.key`` in ``key_dir``; give every machine the same one)."""

    _table = "journal_records"
    _mark = "%s"

    def __init__(
        self,
        url: str,
        *,
        tenant: str | None,
        pseudonym_key: bytes | None = None,
        key_dir: Path | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        pool_size: int = 8,
    ) -> None:
        self.url = url
        self.tenant = tenant or ""
        self._key_file = (key_dir if key_dir is not None else Path(".")) / KEY_FILE
        self._pseudonymise = None if pseudonym_key is None else Pseudonymiser(pseudonym_key)
        self._clock = clock
        try:
            self._pool = open_pool(url, self.tenant, name="journal", max_size=pool_size)
        except psycopg.Error as exc:
            raise storage_error(JournalStorageError, url, "audit journal", "open", exc) from None
        try:
            with self._pool.connection() as conn:
                migrate(conn, "journal", MIGRATIONS)
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresJournal({describe(self.url)!r}, tenant={self.tenant!r})"

    def __enter__(self) -> PostgresJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.close()

    def pseudonym(self, patient_id: str | None) -> str | None:
        """The pseudonym of ``patient_id`` for ordinary logs (the key read on first use:
        a journal opened to migrate or verify needs none)."""
        if self._pseudonymise is None:
            try:
                self._pseudonymise = Pseudonymiser(load_or_create_key(self._key_file))
            except OSError as exc:
                raise JournalStorageError(
                    f"cannot read the pseudonym key {self._key_file}: {exc.strerror}",
                    path=self._key_file,
                ) from None
        return self._pseudonymise(patient_id)

    # -- writing ---------------------------------------------------------------------------

    def record_many(self, entries: Sequence[Mapping[str, Any]]) -> list[JournalRecord]:
        """Append ``entries`` in order, in one transaction, chained after the pharmacy's
        last record (after the records this thread left waiting, see
        :meth:`record_later`); all are durable when this returns, none if one is
        refused."""
        return self._append_prepared(prepared_entries(entries))

    def _append_prepared(
        self, prepared: list[tuple[Mapping[str, Any], str, dict[str, Any]]]
    ) -> list[JournalRecord]:
        """``prepared`` appended after the records this thread left waiting
        (:meth:`record_later`), in one transaction; only ``prepared``'s records back."""
        held = take_waiting(self)
        if not held and not prepared:
            return []
        return self._append([*held, *prepared])[len(held) :]

    def _append(
        self, prepared: list[tuple[Mapping[str, Any], str, dict[str, Any]]]
    ) -> list[JournalRecord]:
        """Write ``prepared`` after the pharmacy's head in one transaction, in two round
        trips (pipelined: ``BEGIN`` with the head's lock, then the records, the new head
        and ``COMMIT``): the head stays locked for one round trip. A failure before the
        ``COMMIT`` was sent (a connection the pool kept across a restart or a failover)
        wrote nothing, and is tried once more on a new connection."""
        for attempt in (1, 2):
            committing = False
            try:
                with self._pool.connection() as conn, conn.pipeline():
                    conn.execute("BEGIN")
                    head = conn.execute(
                        "INSERT INTO journal_heads (seq, hash) VALUES (0, %s)"
                        " ON CONFLICT (tenant) DO UPDATE SET seq = journal_heads.seq"
                        " RETURNING seq, hash",
                        (GENESIS,),
                    ).fetchone()  # the pharmacy's head, created on its first record, locked
                    assert head is not None
                    records, statements = self._chain(prepared, *head)
                    committing = True
                    for sql, params in statements:
                        conn.execute(sql.encode(), params)
                    conn.execute("COMMIT")
                return records
            except psycopg.OperationalError as exc:
                if committing or attempt == 2:
                    raise self._write_error(exc) from None
            except psycopg.Error as exc:
                raise self._write_error(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _write_error(self, exc: psycopg.Error) -> JournalStorageError:
        return storage_error(JournalStorageError, self.url, "audit journal", "write to", exc)

    def _chain(
        self,
        prepared: list[tuple[Mapping[str, Any], str, dict[str, Any]]],
        seq: int,
        prev: str,
    ) -> tuple[list[JournalRecord], list[tuple[str, Sequence[Any]]]]:
        """The records chained after ``(seq, prev)`` and the statements writing them and
        the new head (several INSERTs for a large call)."""
        moment = self._clock().astimezone(dt.UTC)
        at = moment.isoformat()
        rows: list[Any] = []
        records = []
        for entry, details_text, details_value in prepared:
            seq += 1
            fields = dict(
                actor=entry.get("actor"),
                patient_id=entry.get("patient_id"),
                action=entry["action"],
                service=entry.get("service"),
                outcome=entry.get("outcome", "ok"),
            )
            digest = link_hash_canonical(**fields, at=at, details=details_text, prev_hash=prev)
            rows.extend((seq, at, fields["actor"], fields["patient_id"],
                         fields["action"], fields["service"], fields["outcome"],
                         details_text, prev, digest))  # fmt: skip
            records.append(
                JournalRecord(
                    seq=seq, at=moment, details=details_value, prev_hash=prev,
                    hash=digest, **fields,
                )
            )  # fmt: skip
            prev = digest
        statements: list[tuple[str, Sequence[Any]]] = []
        width = len(rows) // len(records)
        while len(rows) > _ROWS_PER_INSERT * width:  # a large call: several INSERTs
            chunk, rows = rows[: _ROWS_PER_INSERT * width], rows[_ROWS_PER_INSERT * width :]
            statements.append((f"{_INSERT} {', '.join([_ROW] * _ROWS_PER_INSERT)}", chunk))
        values = ", ".join([_ROW] * (len(rows) // width))
        statements.append(  # the (last) records and the new head in one statement
            (
                f"WITH written AS ({_INSERT} {values})"
                " UPDATE journal_heads SET seq = %s, hash = %s"
                " WHERE tenant = current_setting('app.tenant')",
                (*rows, seq, prev),
            )
        )
        return records, statements

    # -- reading ---------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._read(sql, params)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._pool.connection() as conn:
                return conn.execute(sql.encode(), params).fetchall()
        except psycopg.Error as exc:
            raise storage_error(
                JournalStorageError, self.url, "audit journal", "read", exc
            ) from None

    def head(self) -> tuple[int, str]:
        rows = self._read("SELECT seq, hash FROM journal_records ORDER BY seq DESC LIMIT 1")
        return (int(rows[0][0]), rows[0][1]) if rows else (0, GENESIS)

    def checkpoint(self, *, adopt: bool = False) -> None:
        """Not on PostgreSQL: the head row counts the records; keep ``segur audit head``
        elsewhere (docs/deployment.md)."""
        raise JournalError(
            "keyed checkpoint files are for the SQLite journal",
            hint="on PostgreSQL, keep the journal's head (count and hash) outside the"
            " database and verify with --expect-head",
        )

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> VerifyReport:
        """Recompute the pharmacy's chain: records modified, deleted (a gap, or the end
        cut short of the head row) or reordered; ``expect_head`` is a ``(count, hash)``
        kept elsewhere that the chain must still hold."""
        rows = self._read(f"SELECT {_COLUMNS} FROM journal_records ORDER BY seq")
        rows = [(int(row[0]), *row[1:]) for row in rows]
        heads = self._read("SELECT seq, hash FROM journal_heads")
        head = (int(heads[0][0]), heads[0][1]) if heads else None
        report = _verify(rows, head, head[0] if head else 0)
        last = rows[-1][0] if rows else 0
        problems = list(report.problems)
        if expect_head is not None:
            count, digest = expect_head
            held = {row[0]: row[9] for row in rows}
            if held.get(count, GENESIS if count == 0 else None) != digest:
                problems.append(
                    Problem(
                        count,
                        ProblemKind.REWRITTEN,
                        f"record {count} is not the one expected (--expect-head)",
                    )
                )
        return attrs.evolve(report, problems=tuple(problems), count=last)
