"""Keeping a worker's lease on the items it claimed while it sends them.

A claim holds an item for ``lease`` seconds; a send that outlasts it would let another
worker take the item over and send it a second time. A :class:`LeaseKeeper` renews the
lease of the items of a batch from a background thread every third of the lease while
the batch is being sent, and the worker checks it still holds an item before sending it.
Renewal is fenced like every state change (``lease_owner`` must match): a worker whose
lease was taken over regardless (it stalled longer than a lease) cannot renew, settle or
reschedule the item.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from segur_core._isolation import describe_failure

if TYPE_CHECKING:
    from segur_core.outbox.store import OutboxStore

__all__ = ["LeaseKeeper"]

log = logging.getLogger("segur.outbox")


class LeaseKeeper:
    """Renews ``owner``'s lease on ``ids`` until each is released or the keeper stops.

    Use it as a context manager around the sending of a batch; :meth:`holds` tells
    whether an item is still this worker's, :meth:`release` stops renewing a settled one.
    """

    def __init__(self, store: OutboxStore, ids: Iterable[int], owner: str, lease: float) -> None:
        self._store = store
        self._owner = owner
        self._lease = lease
        self._lock = threading.Lock()
        self._pending = set(ids)  # claimed and not yet released
        self._lost: set[int] = set()
        self._renewed = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseKeeper:
        self._thread = threading.Thread(target=self._run, name="segur-outbox-lease", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def holds(self, ident: int) -> bool:
        """Whether this worker still holds ``ident``: renewed less than half a lease ago
        by the keeper, else confirmed by a renewal now."""
        with self._lock:
            if ident in self._lost:
                return False
            fresh = time.monotonic() - self._renewed < self._lease / 2
        if not fresh:
            self._renew()
        with self._lock:
            return ident not in self._lost

    def release(self, ident: int) -> None:
        """Stop renewing ``ident`` (it was settled, rescheduled or lost)."""
        with self._lock:
            self._pending.discard(ident)

    def _renew(self) -> None:
        with self._lock:
            ids = sorted(self._pending - self._lost)
        started = time.monotonic()
        kept = self._store.extend(ids, self._owner, self._lease) if ids else set()
        with self._lock:
            # an item released while renewing was settled: not lost, just done
            self._lost.update(i for i in ids if i not in kept and i in self._pending)
            self._renewed = started

    def _run(self) -> None:
        while not self._stop.wait(self._lease / 3):
            try:
                self._renew()
            except Exception as exc:  # the worker's own check renews synchronously
                log.error("cannot renew outbox leases: %s", describe_failure(exc))
