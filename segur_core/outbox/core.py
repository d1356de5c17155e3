"""The outbox: every delivery to a national service goes through here.

An item is first written to the durable queue with an idempotency key, then a worker
hands it to the sender registered for its kind. A crash, a timeout or a 5xx never loses
an item; the key makes a repeated attempt harmless at a receiver that honours it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from segur_core._isolation import describe_failure
from segur_core.model import Delivery, DeliveryState
from segur_core.outbox.retry import Backoff, classify
from segur_core.outbox.store import Claimed, OutboxError, OutboxStore
from segur_core.outbox.worker import WorkerPool
from segur_core.plugin import OutboxItem, Sender

__all__ = ["Outbox"]

log = logging.getLogger("segur.outbox")


class Outbox:
    """A durable delivery queue with retries, dead letters and settlement events.

    :param path: the SQLite file.
    :param runtime: when given, senders come from the ``segur_outbox_senders`` hook,
        settlements fire ``on_delivery_settled`` and every attempt is journalled.
    :param senders: senders by kind (they take precedence over the hook's).
    :param max_attempts: attempts before an item with transient failures is dead.
    :param base_delay: first retry delay in seconds (doubles each time, plus jitter).
    :param max_delay: longest retry delay in seconds.
    :param clock: the time in seconds (``time.time``); tests pass a fake one.
    :param lease: seconds a worker holds a claimed item before another may take it over.
    :param batch_size: items a worker claims at once.
    :param poll_interval: longest idle wait of a worker, to see items other processes add.
    """

    def __init__(
        self,
        path: Path,
        *,
        runtime: Any = None,
        senders: Mapping[str, Sender] | None = None,
        max_attempts: int = 8,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        clock: Callable[[], float] = time.time,
        lease: float = 60.0,
        batch_size: int = 32,
        poll_interval: float = 0.5,
    ) -> None:
        if max_attempts < 1:
            raise OutboxError("max_attempts must be at least 1")
        if lease <= 0 or batch_size < 1:
            raise OutboxError("lease must be positive and batch_size at least 1")
        self.path = Path(path)
        self.runtime = runtime
        self.max_attempts = max_attempts
        self.backoff = Backoff(base_delay, max_delay)
        self.lease = lease
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._clock = clock
        self._store = OutboxStore(self.path, clock=clock)
        self._explicit: dict[str, Sender] = dict(senders or {})
        self._senders: dict[str, Sender] | None = None
        self._senders_lock = threading.RLock()  # a sender hook may register senders
        self._wake = threading.Condition()
        self._pool: WorkerPool | None = None
        self._owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    # -- senders ---------------------------------------------------------------------------

    def register_sender(self, kind: str, sender: Sender) -> None:
        """Send items of ``kind`` with ``sender`` (replacing any other sender of it)."""
        if not callable(sender):
            raise OutboxError(f"the sender of {kind!r} is not callable")
        with self._senders_lock:
            self._explicit[kind] = sender
            if self._senders is not None:
                self._senders[kind] = sender
        self._notify_workers()

    def senders(self) -> dict[str, Sender]:
        """Senders by kind: the hook's (with a runtime), overridden by explicit ones."""
        with self._senders_lock:
            if self._senders is None:
                found: dict[str, Sender] = {}
                hook = getattr(self.runtime, "outbox_senders", None)
                if hook is not None:
                    found.update(hook())
                found.update(self._explicit)
                self._senders = found
            return dict(self._senders)

    # -- queue -----------------------------------------------------------------------------

    def enqueue(
        self, kind: str, key: str, payload: bytes, *, patient_id: str | None = None
    ) -> Delivery:
        """Queue ``payload`` for delivery. Idempotent on ``key``: enqueueing a key again
        returns the item already queued (whatever its state) and adds nothing."""
        if not kind or not key:
            raise OutboxError("a delivery needs a kind and an idempotency key")
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise OutboxError(f"a delivery payload is bytes, not {type(payload).__name__}")
        delivery, created = self._store.insert(kind, key, bytes(payload), patient_id)
        if created:
            self._notify_workers()
        return delivery

    def get(self, ident: int) -> Delivery:
        """The item ``ident`` (:class:`UnknownDeliveryError` when there is none)."""
        return self._store.get(ident)

    def find(self, key: str) -> Delivery | None:
        """The item queued under ``key``, if any."""
        return self._store.find(key)

    def payload(self, ident: int) -> bytes:
        """The bytes queued for item ``ident``."""
        return self._store.payload(ident)

    def list(
        self,
        state: DeliveryState | str | None = None,
        *,
        kind: str | None = None,
        limit: int | None = None,
    ) -> list[Delivery]:
        """Items, oldest first, optionally in one state or of one kind."""
        return self._store.list(
            None if state is None else DeliveryState(state), kind=kind, limit=limit
        )

    def counts(self) -> dict[DeliveryState, int]:
        """How many items are in each state."""
        return self._store.counts()

    def retry(self, ident: int) -> Delivery:
        """Give a dead item a new attempt budget (DEAD → PENDING), or make a pending one
        due now. Anything else is an :class:`OutboxError`."""
        delivery = self._store.retry(ident)
        self._journal("outbox.retry", delivery, outcome="ok", details={"requested": True})
        self._notify_workers()
        return delivery

    def purge(
        self,
        state: DeliveryState | str = DeliveryState.DELIVERED,
        older_than: dt.timedelta | float | None = None,
    ) -> int:
        """Delete delivered (or dead) items settled at least ``older_than`` ago; return
        how many were deleted."""
        if isinstance(older_than, dt.timedelta):
            older_than = older_than.total_seconds()
        return self._store.purge(DeliveryState(state), older_than)

    # -- delivering ------------------------------------------------------------------------

    def deliver_due(self, limit: int | None = None) -> int:
        """Attempt, in this thread, every item due now (at most ``limit``); return the
        number of attempts made. Does not wait for retries scheduled later."""
        self._announce_lost_settlements()
        done = 0
        while limit is None or done < limit:
            batch = self.batch_size if limit is None else min(self.batch_size, limit - done)
            attempted = self._deliver_batch(batch, self._owner)
            if attempted == 0:
                break
            done += attempted
        return done

    def run_until_idle(self, timeout: float = 30.0) -> bool:
        """Deliver in this thread until no item of a kind with a sender is left
        unsettled (waiting for scheduled retries and expired leases); ``False`` when
        ``timeout`` seconds pass first."""
        deadline = time.monotonic() + timeout
        while True:
            self.deliver_due()
            kinds = self.senders().keys()
            if not self._store.unsettled(kinds):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            due = self._store.next_due(kinds)
            wait = self.poll_interval if due is None else due - self._clock()
            time.sleep(max(0.001, min(wait, remaining, self.poll_interval)))

    def start_worker(self, threads: int = 1) -> None:
        """Deliver in ``threads`` background threads until :meth:`stop_worker`."""
        if self._pool is not None and self._pool.alive:
            return
        self._announce_lost_settlements()
        self._pool = WorkerPool(self, threads)
        self._pool.start()

    def stop_worker(self, timeout: float = 10.0) -> None:
        """Stop the background threads, letting each finish the item it is sending."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop(timeout)

    @property
    def worker_running(self) -> bool:
        return self._pool is not None and self._pool.alive

    def close(self) -> None:
        """Stop the workers and close the database."""
        self.stop_worker()
        self._store.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Outbox({str(self.path)!r})"

    # -- internals -------------------------------------------------------------------------

    def _notify_workers(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _wait_for_work(self, stop: threading.Event) -> None:
        """Sleep until an item may be due, something is enqueued, or ``stop``."""
        if stop.is_set():
            return
        due = self._store.next_due(self.senders().keys())
        wait = self.poll_interval if due is None else due - self._clock()
        with self._wake:
            if not stop.is_set():
                self._wake.wait(max(0.0, min(wait, self.poll_interval)))

    def _deliver_batch(self, limit: int, owner: str) -> int:
        senders = self.senders()
        if not senders:
            return 0
        claim_owner = f"{owner}-{uuid.uuid4().hex[:8]}"
        items = self._store.claim(claim_owner, limit=limit, lease=self.lease, kinds=senders)
        held_until = time.monotonic() + self.lease
        for index, item in enumerate(items):
            if time.monotonic() > held_until - self.lease / 2:
                # a long batch: keep the lease on what is left, drop what was taken over
                rest = items[index:]
                kept = self._store.extend([i.id for i in rest], claim_owner, self.lease)
                held_until = time.monotonic() + self.lease
                if item.id not in kept:
                    continue
            self._attempt(item, senders[item.kind])
        return len(items)

    def _attempt(self, item: Claimed, sender: Sender) -> None:
        if item.attempts > self.max_attempts:  # the worker of its last attempt died
            self._settle(
                item,
                DeliveryState.DEAD,
                error=f"gave up after {self.max_attempts} attempts (the last one was interrupted)",
            )
            return
        try:
            # a frozen Claimed is the read-only view the OutboxItem protocol describes
            result = sender(cast("OutboxItem", item))
        except Exception as exc:
            failure = classify(exc)
            # the failure text may quote the patient (an address, an INS): it stays in the
            # outbox and the journal; the ordinary log gets the error's type and place only
            logged = describe_failure(exc)
            if failure.transient and item.attempts < self.max_attempts:
                delay = self.backoff.delay(item.attempts)
                if self._store.reschedule(item, delay, failure.message):
                    log.info(
                        "delivery %s (%s) attempt %s failed, retry in %.1fs: %s",
                        item.id,
                        item.kind,
                        item.attempts,
                        delay,
                        logged,
                    )
                    self._journal("outbox.attempt", item, outcome="retry", error=failure.message)
                return
            reason = "permanent failure" if not failure.transient else "no attempts left"
            self._settle(
                item,
                DeliveryState.DEAD,
                error=f"{failure.message} ({reason})",
                logged=f"{logged} ({reason})",
            )
            return
        self._settle(item, DeliveryState.DELIVERED, result=None if result is None else str(result))

    def _settle(
        self,
        item: Claimed,
        state: DeliveryState,
        *,
        result: str | None = None,
        error: str | None = None,
        logged: str | None = None,
    ) -> None:
        """Settle ``item``; ``logged`` replaces ``error`` in the ordinary log."""
        runtime = self.runtime
        delivery = self._store.settle(
            item,
            state,
            result=result,
            error=error,
            notified=runtime is None,
            read_back=runtime is not None,
        )
        if delivery is None:  # the lease was lost: the new holder settles it
            log.warning("delivery %s was taken over by another worker", item.id)
            return
        if state is DeliveryState.DEAD:
            log.warning("delivery %s (%s) is dead: %s", item.id, item.kind, logged or error)
        if runtime is not None:
            assert isinstance(delivery, Delivery)
            self._journal(
                "outbox.attempt",
                item,
                outcome="delivered" if state is DeliveryState.DELIVERED else "dead",
                error=error,
            )
            self._announce(delivery)
            self._store.mark_notified(delivery.id)

    def _announce(self, delivery: Delivery) -> None:
        try:
            self.runtime.delivery_settled(delivery)
        except Exception as exc:  # the runtime contains plugin failures; this is a backstop
            log.error("announcing delivery %s failed: %s", delivery.id, type(exc).__name__)

    def _announce_lost_settlements(self) -> None:
        """Announce settlements whose worker died between settling and announcing (those
        settled more than a lease ago). Announced before being marked, so that a second
        crash cannot lose them: after a crash an event may come twice, never not at all."""
        if self.runtime is None:
            return
        for delivery in self._store.unnotified(self._clock() - self.lease):
            self._announce(delivery)
            self._store.mark_notified(delivery.id)

    def _journal(
        self,
        action: str,
        item: Claimed | Delivery,
        *,
        outcome: str,
        error: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        journal = getattr(self.runtime, "journal", None)
        if journal is None:
            return
        info: dict[str, Any] = {"delivery": item.id, "key": item.key, "attempt": item.attempts}
        if error:
            info["error"] = error
        info.update(details or {})
        try:
            journal.record(
                action, outcome=outcome, service=item.kind, patient_id=item.patient_id, details=info
            )
        except Exception as exc:
            log.error("cannot journal delivery %s: %s", item.id, type(exc).__name__)
