"""The outbox on PostgreSQL: many workers on many machines, one tenant per pharmacy.

The same table and the same fenced state changes as the SQLite store
(:mod:`segur_core.outbox.store`), with what a server adds: a claim takes its items
``FOR UPDATE SKIP LOCKED`` (two workers never wait for, nor take, the same item), a new
item wakes the workers of its pharmacy on every machine with ``NOTIFY``, and each row
belongs to a tenant that row-level security enforces (:mod:`segur_core.postgres`).

A statement that meets a broken connection (the server restarted, a failover) is tried
once more on a new connection. Every statement is idempotent or fenced, so a second try
after a commit whose answer was lost does no harm: an insert finds its key, a claim
leaves items ``in-flight`` until their lease expires, a settlement is refused as lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg

from segur_core.model import Delivery, DeliveryState
from segur_core.outbox.store import (
    _FIELDS,
    _UNSETTLED,
    Claimed,
    DeliveryReads,
    OutboxError,
    OutboxStorageError,
    _clip,
    _delivery,
    _no_kinds,
    _stamp,
)
from segur_core.postgres import describe, migrate, open_pool, storage_error, tenant_table

__all__ = ["CHANNEL", "MIGRATIONS", "PostgresOutboxStore"]

log = logging.getLogger("segur.outbox")

#: The channel new items are announced on (the payload is the tenant).
CHANNEL = "segur_outbox"

MIGRATIONS: tuple[str, ...] = (
    # 1: the deliveries of every pharmacy, each row its tenant's
    f"""
    CREATE TABLE outbox_deliveries (
        tenant      TEXT NOT NULL DEFAULT current_setting('app.tenant'),
        id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind        TEXT NOT NULL,
        key         TEXT NOT NULL,
        state       TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        result      TEXT,
        patient_id  TEXT,
        created_at  DOUBLE PRECISION NOT NULL,
        settled_at  DOUBLE PRECISION,
        due_at      DOUBLE PRECISION,
        lease_owner TEXT,
        notified    BOOLEAN NOT NULL DEFAULT false,
        retry_from  DOUBLE PRECISION,
        payload     BYTEA NOT NULL,
        UNIQUE (tenant, key)
    );
    CREATE INDEX outbox_deliveries_due ON outbox_deliveries (tenant, due_at, id)
        WHERE state IN ('pending', 'in-flight');
    CREATE INDEX outbox_deliveries_unnotified ON outbox_deliveries (tenant, settled_at)
        WHERE NOT notified AND state IN ('delivered', 'dead');
    {tenant_table("outbox_deliveries")}
    """,
)


class PostgresOutboxStore(DeliveryReads):
    """The outbox of one pharmacy (``tenant``, its FINESS) in the database at ``url``;
    creates or migrates the tables when the URL's role may (see :func:`migrate_outbox`)."""

    _table = _due = "outbox_deliveries"
    _mark = "%s"

    def _kinds(self, kinds: Iterable[str]) -> tuple[str, list[Any]]:
        return " AND kind = ANY(%s)", [sorted(kinds)]

    def __init__(
        self, url: str, *, clock: Callable[[], float], tenant: str | None, pool_size: int = 8
    ) -> None:
        self.url = url
        self._clock = clock
        self._listener: _Listener | None = None
        try:
            self._pool = open_pool(url, tenant or "", name="outbox", max_size=pool_size)
        except psycopg.Error as exc:
            raise storage_error(OutboxStorageError, url, "outbox", "open", exc) from None
        self.tenant = tenant or ""
        try:
            with self._pool.connection() as conn:
                migrate_outbox(conn)
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresOutboxStore({describe(self.url)!r}, tenant={self.tenant!r})"

    # -- statements ------------------------------------------------------------------------

    def _run(self, doing: str, sql: str, params: Sequence[Any] = ()) -> tuple[list[Any], int]:
        """Run one statement (its own transaction): its rows and row count. A broken
        connection is replaced and the statement tried once more."""
        for attempt in (1, 2):
            try:
                with self._pool.connection() as conn:
                    cursor = conn.execute(sql.encode(), params, prepare=True)
                    rows = cursor.fetchall() if cursor.description else []
                    return rows, cursor.rowcount
            except psycopg.OperationalError as exc:
                if attempt == 2 or not _connection_lost(exc):
                    raise storage_error(
                        OutboxStorageError, self.url, "outbox", doing, exc
                    ) from None
                log.warning("outbox database connection lost; trying again")
            except psycopg.Error as exc:
                raise storage_error(OutboxStorageError, self.url, "outbox", doing, exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, doing: str, exc: psycopg.Error) -> OutboxStorageError:
        return storage_error(OutboxStorageError, self.url, "outbox", doing, exc)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._run("read", sql, params)[0]

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _write(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[Any], int]:
        return self._run("write to", sql, params)

    # -- writing ---------------------------------------------------------------------------

    def insert(
        self, kind: str, key: str, payload: bytes, patient_id: str | None
    ) -> tuple[Delivery, bool]:
        now = self._clock()
        rows, _count = self._run(
            "queue a delivery in",
            "WITH new AS (INSERT INTO outbox_deliveries (kind, key, payload, state, patient_id,"
            " created_at, due_at) VALUES (%s, %s, %s, 'pending', %s, %s, %s)"
            " ON CONFLICT (tenant, key) DO NOTHING RETURNING id)"
            f" SELECT id, pg_notify('{CHANNEL}', current_setting('app.tenant')) FROM new",
            (kind, key, payload, patient_id, now, now),
        )
        if rows:
            delivery = Delivery(
                id=rows[0][0],
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
        """Take up to ``limit`` due items for ``owner``; items another worker is claiming
        at the same moment are skipped, not waited for."""
        if _no_kinds(kinds):
            return []
        now = self._clock()
        clause, params = ("", []) if kinds is None else self._kinds(kinds)
        rows, _count = self._write(
            "WITH due AS (SELECT id FROM outbox_deliveries"
            f" WHERE {_UNSETTLED} AND due_at <= %s{clause}"
            " ORDER BY due_at, id LIMIT %s FOR UPDATE SKIP LOCKED)"
            " UPDATE outbox_deliveries d SET state = 'in-flight', attempts = attempts + 1,"
            " lease_owner = %s, due_at = %s FROM due WHERE d.id = due.id"
            " RETURNING d.id, d.kind, d.key, d.payload, d.attempts, d.patient_id,"
            " coalesce(d.retry_from, d.created_at)",
            (now, *params, limit, owner, now + lease),
        )
        rows.sort()
        return [
            Claimed(
                id=i, kind=k, key=key, payload=bytes(p), attempts=a, patient_id=pid,
                owner=owner, queued_at=since,
            )
            for i, k, key, p, a, pid, since in rows
        ]  # fmt: skip

    def extend(self, ids: Sequence[int], owner: str, lease: float) -> set[int]:
        if not ids:
            return set()
        rows, _count = self._write(
            "UPDATE outbox_deliveries SET due_at = %s WHERE id = ANY(%s)"
            " AND state = 'in-flight' AND lease_owner = %s RETURNING id",
            (self._clock() + lease, list(ids), owner),
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
        if not state.settled:
            raise OutboxError(f"{state} is not a final state")
        rows, count = self._write(
            "UPDATE outbox_deliveries SET state = %s, result = %s, last_error = %s,"
            " settled_at = %s, due_at = NULL, lease_owner = NULL, notified = %s"
            " WHERE id = %s AND state = 'in-flight' AND lease_owner = %s"
            + (f" RETURNING {_FIELDS}" if read_back else ""),
            (str(state), _clip(result), _clip(error), self._clock(), notified, item.id, item.owner),
        )
        if not count:
            return None
        return _delivery(rows[0]) if read_back else True

    def reschedule(self, item: Claimed, delay: float, error: str) -> bool:
        _rows, count = self._write(
            "UPDATE outbox_deliveries SET state = 'pending', due_at = %s, last_error = %s,"
            " lease_owner = NULL WHERE id = %s AND state = 'in-flight' AND lease_owner = %s",
            (self._clock() + delay, _clip(error), item.id, item.owner),
        )
        return count == 1

    def mark_notified(self, ident: int) -> bool:
        _rows, count = self._write(
            "UPDATE outbox_deliveries SET notified = true WHERE id = %s AND NOT notified",
            (ident,),
        )
        return count == 1

    def unnotified(self, settled_before: float) -> list[Delivery]:
        rows = self._rows(
            f"SELECT {_FIELDS} FROM outbox_deliveries WHERE NOT notified"
            " AND state IN ('delivered', 'dead') AND settled_at < %s ORDER BY id",
            (settled_before,),
        )
        return [_delivery(row) for row in rows]

    def retry(self, ident: int) -> Delivery:
        now = self._clock()
        rows, _count = self._write(
            "WITH again AS (UPDATE outbox_deliveries SET state = 'pending', due_at = %s,"
            " attempts = CASE state WHEN 'dead' THEN 0 ELSE attempts END,"
            " retry_from = CASE state WHEN 'dead' THEN %s ELSE retry_from END,"
            " settled_at = NULL, notified = false"
            " WHERE id = %s AND state IN ('dead', 'pending')"
            f" RETURNING {_FIELDS})"
            f" SELECT again.*, pg_notify('{CHANNEL}', current_setting('app.tenant')) FROM again",
            (now, now, ident),
        )
        if rows:
            return _delivery(rows[0][:-1])
        current = self.get(ident)
        raise OutboxError(
            f"delivery {ident} is {current.state}: only dead or pending deliveries can be retried"
        )

    def purge(self, state: DeliveryState, older_than: float | None) -> int:
        if not state.settled:
            raise OutboxError(
                f"cannot purge {state} deliveries: only delivered or dead ones can be purged"
            )
        cutoff = self._clock() - (older_than or 0.0)
        _rows, count = self._write(
            "DELETE FROM outbox_deliveries WHERE state = %s AND settled_at <= %s",
            (str(state), cutoff),
        )
        return count

    def drop_payloads(self, settled_before: float) -> int:
        """Empty the payload of delivered items settled before ``settled_before`` (their
        record stays); autovacuum makes the space reusable."""
        _rows, count = self._write(
            "UPDATE outbox_deliveries SET payload = ''::bytea WHERE state = 'delivered'"
            " AND settled_at < %s AND octet_length(payload) > 0",
            (settled_before,),
        )
        return count

    def compact(self) -> None:
        """Nothing to do: PostgreSQL's autovacuum reclaims the space of dropped payloads."""

    # -- waking workers --------------------------------------------------------------------

    def subscribe(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever an item of this tenant is queued or retried, by any
        process on any machine (``LISTEN``); a no-op when already subscribed."""
        if self._listener is None:
            self._listener = _Listener(self.url, self.tenant, wake)
            self._listener.start()

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        self._pool.close()


def migrate_outbox(conn: psycopg.Connection[Any]) -> int:
    """Create or migrate the outbox tables on ``conn`` (run as their owner); return
    the version they were at."""
    return migrate(conn, "outbox", MIGRATIONS)


def _connection_lost(exc: psycopg.OperationalError) -> bool:
    """Whether ``exc`` is a broken connection (worth a new one), not a refused query."""
    from psycopg_pool import PoolTimeout

    return not isinstance(exc, PoolTimeout)


class _Listener:
    """A thread holding one connection that ``LISTEN``s for new items of a tenant;
    reconnects (waking the workers, who may have missed something) when it breaks."""

    def __init__(self, url: str, tenant: str, wake: Callable[[], None]) -> None:
        self._url = url
        self._tenant = tenant
        self._wake = wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="segur-outbox-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._wake()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            if note.payload == self._tenant:
                                self._wake()
            except psycopg.Error as exc:
                log.warning("outbox listener: %s; reconnecting", type(exc).__name__)
                self._stop.wait(1.0)
