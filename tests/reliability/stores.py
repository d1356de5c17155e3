"""The outbox and the journal under test on each backend: a SQLite file, or a PostgreSQL
database of the session's server reached as the application's non-owner role, for one
pharmacy (tenant), the tables migrated first by their owner."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import attrs
import pytest

from segur_core.journal import Journal
from segur_core.outbox import Outbox

#: A FINESS in the 99 test range; each test database starts empty.
TENANT = "999990013"

BACKENDS = ["sqlite", "postgresql"]


def random_tenant() -> str:
    """A FINESS-shaped tenant nobody else uses (a fresh, empty chain and queue)."""
    return f"99{secrets.randbelow(10**7):07d}"


@attrs.frozen
class Store:
    """Where an outbox and a journal live: ``outbox(...)`` and ``journal(...)`` open them
    with the keywords of :class:`Outbox` and :class:`Journal`."""

    backend: str
    directory: Path
    url: str | None = attrs.field(default=None, repr=False)
    tenant: str = TENANT
    owner_url: str | None = attrs.field(default=None, repr=False)

    @property
    def outbox_location(self) -> Path | str:
        return self.url if self.url is not None else self.directory / "outbox.sqlite"

    def outbox(self, **kwargs: Any) -> Outbox:
        if self.url is not None:
            kwargs.setdefault("tenant", self.tenant)
        return Outbox(self.outbox_location, **kwargs)

    def journal(self, **kwargs: Any) -> Any:
        if self.url is None:
            return Journal(self.directory / "journal.sqlite", **kwargs)
        from segur_core.journal.postgres import PostgresJournal

        kwargs.setdefault("pseudonym_key", b"k" * 32)
        kwargs.setdefault("tenant", self.tenant)
        return PostgresJournal(self.url, **kwargs)

    def for_tenant(self, tenant: str) -> Store:
        return attrs.evolve(self, tenant=tenant)


def migrated(owner_url: str) -> None:
    """Create the outbox and journal tables as their owner."""
    from segur_core.journal.postgres import PostgresJournal

    Outbox(owner_url, tenant=TENANT).close()
    PostgresJournal(owner_url, tenant=TENANT, pseudonym_key=b"k" * 32).close()


def make_store(request: pytest.FixtureRequest, backend: str, directory: Path) -> Store:
    if backend == "sqlite":
        return Store("sqlite", directory)
    database = request.getfixturevalue("postgresql_database")
    migrated(database.owner_url)
    return Store("postgresql", directory, url=database.app_url, owner_url=database.owner_url)
