"""The outbox's storage seam: what :class:`~segur_core.outbox.Outbox` asks of a store,
and which store a location names.

A location is a SQLite file (one pharmacy, the default) or a ``postgresql://`` URL (a
group or a cloud LGO: many workers on many machines, one tenant per pharmacy). Both
stores keep the same promises: every state change is fenced by the lease owner, a claim
counts one more attempt, settled items are announced once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from segur_core.model import Delivery, DeliveryState
from segur_core.outbox.store import Claimed, OutboxError

__all__ = ["OutboxBackend", "is_url", "open_store"]


class OutboxBackend(Protocol):
    """The storage of an outbox (the SQLite :class:`~segur_core.outbox.store.OutboxStore`
    is the reference; see its methods for what each promises)."""

    def insert(
        self, kind: str, key: str, payload: bytes, patient_id: str | None
    ) -> tuple[Delivery, bool]: ...

    def claim(
        self, owner: str, *, limit: int, lease: float, kinds: Iterable[str] | None = None
    ) -> list[Claimed]: ...

    def extend(self, ids: Sequence[int], owner: str, lease: float) -> set[int]: ...

    def settle(
        self,
        item: Claimed,
        state: DeliveryState,
        *,
        result: str | None = None,
        error: str | None = None,
        notified: bool = False,
        read_back: bool = True,
    ) -> Delivery | bool | None: ...

    def reschedule(self, item: Claimed, delay: float, error: str) -> bool: ...

    def mark_notified(self, ident: int) -> bool: ...

    def unnotified(self, settled_before: float) -> list[Delivery]: ...

    def retry(self, ident: int) -> Delivery: ...

    def purge(self, state: DeliveryState, older_than: float | None) -> int: ...

    def drop_payloads(self, settled_before: float) -> int: ...

    def compact(self) -> None: ...

    def get(self, ident: int) -> Delivery: ...

    def payload(self, ident: int) -> bytes: ...

    def find(self, key: str) -> Delivery | None: ...

    def list(
        self,
        state: DeliveryState | None = None,
        *,
        kind: str | None = None,
        limit: int | None = None,
    ) -> list[Delivery]: ...

    def counts(self) -> dict[DeliveryState, int]: ...

    def unsettled(self, kinds: Iterable[str] | None = None) -> int: ...

    def next_due(self, kinds: Iterable[str] | None = None) -> float | None: ...

    def close(self) -> None: ...


def is_url(location: object) -> bool:
    """Whether ``location`` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def open_store(
    location: Path | str, *, clock: Callable[[], float], tenant: str | None = None
) -> OutboxBackend:
    """The store at ``location``: a SQLite file, or a PostgreSQL URL (``tenant``, the
    pharmacy's FINESS, then says whose items this store sees)."""
    if is_url(location):
        try:
            from segur_core.outbox.postgres import PostgresOutboxStore
        except ImportError as exc:
            raise OutboxError(
                f"a PostgreSQL outbox needs psycopg ({exc})",
                hint="install segur-core[postgresql]",
            ) from None
        return PostgresOutboxStore(str(location), clock=clock, tenant=tenant)
    from segur_core.outbox.store import OutboxStore

    return OutboxStore(Path(location), clock=clock)
