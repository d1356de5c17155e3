"""Keeping a worker's lease on the items it claimed while it sends them.

A claim holds an item for ``lease`` seconds; a send that outlasts it would let another
worker take the item over and send it a second time. While a batch is being sent, its
:class:`LeaseKeeper` is registered with the outbox's :class:`LeaseRenewer`, one thread
that renews the lease of every registered batch each third of a lease; the worker checks
it still holds an item before sending it. Renewal is fenced like every state change
(``lease_owner`` must match): a worker whose lease was taken over regardless (it stalled
longer than a lease) cannot renew, settle or reschedule the item.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from segur_core._isolation import describe_failure

if TYPE_CHECKING:
    from segur_core.outbox.backend import OutboxBackend

__all__ = ["LeaseKeeper", "LeaseRenewer"]

log = logging.getLogger("segur.outbox")


class LeaseKeeper:
    """``owner``'s lease on the items ``ids`` of one batch: :meth:`holds` tells whether
    an item is still this worker's, :meth:`release` stops renewing a settled one."""

    def __init__(self, store: OutboxBackend, ids: Iterable[int], owner: str, lease: float) -> None:
        self._store = store
        self._owner = owner
        self._lease = lease
        self._lock = threading.Lock()
        self._pending = set(ids)  # claimed and not yet released
        self._lost: set[int] = set()
        self._renewed = time.monotonic()

    def holds(self, ident: int) -> bool:
        """Whether this worker still holds ``ident``: renewed less than half a lease ago,
        else confirmed by a renewal now. (Single set operations are atomic: the fast
        path, once per item sent, takes no lock.)"""
        if time.monotonic() - self._renewed >= self._lease / 2:
            self.renew()
        return ident not in self._lost

    def release(self, ident: int) -> None:
        """Stop renewing ``ident`` (it was settled, rescheduled or lost)."""
        self._pending.discard(ident)

    def due(self, now: float) -> bool:
        """Whether the lease was last renewed a third of a lease ago or more."""
        return now - self._renewed >= self._lease / 3

    def renew(self) -> None:
        """Extend the lease on the items not yet released; note those another worker took."""
        with self._lock:
            ids = sorted(self._pending - self._lost)
        started = time.monotonic()
        kept = self._store.extend(ids, self._owner, self._lease) if ids else set()
        with self._lock:
            # an item released while renewing was settled: not lost, just done
            self._lost.update(i for i in ids if i not in kept and i in self._pending)
            self._renewed = started


class LeaseRenewer:
    """One thread per outbox renewing the leases of the batches being sent, started on
    first use and stopped by :meth:`stop`."""

    def __init__(self, store: OutboxBackend, lease: float) -> None:
        self._store = store
        self._lease = lease
        self._lock = threading.Lock()
        self._keepers: set[LeaseKeeper] = set()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def keep(self, ids: Iterable[int], owner: str) -> Iterator[LeaseKeeper]:
        """Renew ``owner``'s lease on ``ids`` for the duration of the block."""
        keeper = LeaseKeeper(self._store, ids, owner, self._lease)
        with self._lock:
            self._keepers.add(keeper)
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._run, name="segur-outbox-lease", daemon=True
                )
                self._thread.start()
        try:
            yield keeper
        finally:
            with self._lock:
                self._keepers.discard(keeper)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        while not self._wake.wait(self._lease / 6):
            with self._lock:
                keepers = list(self._keepers)
            now = time.monotonic()
            for keeper in keepers:
                if not keeper.due(now):
                    continue
                try:
                    keeper.renew()
                except Exception as exc:  # the worker's own check renews synchronously
                    log.error("cannot renew outbox leases: %s", describe_failure(exc))
