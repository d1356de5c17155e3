"""What the PostgreSQL stores share: a connection pool bound to one tenant, versioned
migrations, tenants named by FINESS, storage faults in words.

One deployment serves many pharmacies. Every table holds a ``tenant`` column (the
pharmacy's FINESS) and a row-level security policy lets a connection see and write only
the rows of the tenant its ``app.tenant`` setting names; the policies are forced on the
owner too, and the application connects as a role that does not own the tables, so
that it can neither switch them off nor read around them. Each pooled connection sets
``app.tenant`` once, when the pool opens it; a connection without it sees nothing (the
policy then fails the query).

Migrations are numbered scripts per component (outbox, journal, host), applied once, in
order, each in its own transaction under an advisory lock, and recorded in the table
``segur_migrations``; they are run by the role that owns the tables, which grants the
application's role (``segur_app``, when it exists) what it needs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from segur_core.errors import ConfigError, SegurError
from segur_core.secrets import redact_text

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = [
    "APP_ROLE",
    "check_tenant",
    "describe",
    "grant",
    "migrate",
    "open_pool",
    "tenant_table",
]

#: The group role the application connects as (or is a member of): not the owner.
APP_ROLE = "segur_app"

_FINESS = re.compile(r"[0-9][0-9AB][0-9]{7}")

E = TypeVar("E", bound=SegurError)


def check_tenant(tenant: object) -> str:
    """``tenant`` if it is a FINESS (nine characters, 2A/2B for Corsica), else a
    :class:`ConfigError`: a PostgreSQL store is always opened for one pharmacy."""
    if not isinstance(tenant, str) or not _FINESS.fullmatch(tenant):
        raise ConfigError(
            "a PostgreSQL store needs the pharmacy's FINESS (nine characters) as its tenant",
            key="segur.tenant",
            hint='set [segur] tenant = "<FINESS>"',
        )
    return tenant


def describe(url: str) -> str:
    """``url`` without its password, for messages."""
    return redact_text(url)


def open_pool(
    url: str, tenant: str, *, name: str, max_size: int = 8, timeout: float = 30.0
) -> ConnectionPool:
    """A pool of connections to ``url`` whose ``app.tenant`` is ``tenant``, open and
    checked (a wrong URL or password fails here, not at the first query)."""
    from psycopg_pool import ConnectionPool

    tenant = check_tenant(tenant)

    def configure(conn: psycopg.Connection[Any]) -> None:
        conn.execute("SELECT set_config('app.tenant', %s, false)", (tenant,))

    pool: ConnectionPool = ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        # autocommit: a single statement is its own transaction, without a COMMIT round
        # trip; several go in an explicit ``conn.transaction()``
        kwargs={"application_name": f"segur-{name}", "connect_timeout": 10, "autocommit": True},
        configure=configure,
        timeout=timeout,
        open=False,
        name=f"segur-{name}",
    )
    pool.open(wait=True, timeout=timeout)
    return pool


def tenant_table(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> str:
    """The SQL that puts ``table`` under the tenant policy (row-level security forced on
    its owner too) and grants ``privileges`` on it to the application's role."""
    return f"""
    ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
    ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
    CREATE POLICY {table}_tenant ON {table}
        USING (tenant = current_setting('app.tenant'))
        WITH CHECK (tenant = current_setting('app.tenant'));
    {grant(f"GRANT {privileges} ON {table} TO {APP_ROLE}")};
    """


def grant(statement: str) -> str:
    """``statement`` (a GRANT to the application's role) run only when that role exists."""
    return (
        "DO $grant$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
        f"'{APP_ROLE}') THEN {statement}; END IF; END $grant$"
    )


_LEDGER = """
CREATE TABLE IF NOT EXISTS segur_migrations (
    component TEXT PRIMARY KEY,
    version   INTEGER NOT NULL
)
"""


def migrate(conn: psycopg.Connection[Any], component: str, migrations: Sequence[str]) -> int:
    """Bring ``component``'s tables to ``len(migrations)``; return the version they were at.
    ``conn`` is in autocommit mode (as the pools' are).

    Nothing to do costs one read (the application's role may run it). A database newer
    than this code is refused rather than silently misread; a migration the role may
    not run says to run it as the owner."""
    import psycopg

    target = len(migrations)
    current = _version(conn, component)
    if current == target:
        return current
    if current > target:
        raise SegurError(
            f"the {component} tables are at version {current}, newer than this segur ({target})",
            hint="upgrade segur-core",
        )
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('segur.migrate'))")
            conn.execute(_LEDGER)
            conn.execute(grant(f"GRANT SELECT ON segur_migrations TO {APP_ROLE}").encode())
            current = _version(conn, component)
            for version in range(current + 1, target + 1):
                conn.execute(migrations[version - 1].encode())
                conn.execute(
                    "INSERT INTO segur_migrations (component, version) VALUES (%s, %s)"
                    " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                    (component, version),
                )
    except psycopg.errors.InsufficientPrivilege as exc:
        raise SegurError(
            f"the {component} tables need migrating to version {target} and this role"
            f" may not do it: {exc.diag.message_primary}",
            hint="run the migrations as the role that owns the database"
            " (segur_core.postgres.migrate, docs/deployment.md)",
        ) from None
    return current


def _version(conn: psycopg.Connection[Any], component: str) -> int:
    exists = conn.execute("SELECT to_regclass('segur_migrations')").fetchone()
    if exists is None or exists[0] is None:
        return 0
    row = conn.execute(
        "SELECT version FROM segur_migrations WHERE component = %s", (component,)
    ).fetchone()
    return int(row[0]) if row else 0


def storage_error(cls: type[E], url: str, store: str, doing: str, exc: BaseException) -> E:
    """A ``cls`` error naming the database (without its password) and the cause."""
    message = getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc)
    return cls(
        f"cannot {doing} the {store} at {describe(url)}: {redact_text(message)}",
        hint="check that the database is reachable; after a failover, retry",
    )
