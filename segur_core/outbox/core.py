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
from segur_core.outbox.backend import is_url, open_store
from segur_core.outbox.lease import LeaseRenewer
from segur_core.outbox.policy import DEFAULT_HORIZON_HOURS, OutboxSettings, RetryPolicy
from segur_core.outbox.retry import Backoff, classify
from segur_core.outbox.store import Claimed, OutboxError
from segur_core.outbox.worker import WorkerPool
from segur_core.plugin import OutboxItem, Sender

__all__ = ["Outbox"]

log = logging.getLogger("segur.outbox")


#: Seconds between two looks for delivered payloads past their retention.
_DROP_EVERY = 600.0


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds:.0f} s"


class Outbox:
    """A durable delivery queue with retries, dead letters and settlement events.

    :param path: the SQLite file, or a ``postgresql://`` URL (see
        :func:`~segur_core.outbox.backend.open_store`).
    :param runtime: when given, senders come from the ``segur_outbox_senders`` hook,
        settlements fire ``on_delivery_settled`` (and dead letters ``on_delivery_dead``)
        and every attempt is journalled.
    :param senders: senders by kind (they take precedence over the hook's).
    :param settings: retry policies per kind and the lease (the ``[segur.outbox]``
        table); when given, the four arguments below are ignored.
    :param horizon: seconds after queueing during which transient failures are retried.
    :param max_attempts: an optional bound on attempts as well (``None``: the horizon only).
    :param base_delay: first retry delay in seconds (doubles each time, plus jitter).
    :param max_delay: longest retry delay in seconds.
    :param clock: the time in seconds (``time.time``); tests pass a fake one.
    :param lease: seconds a worker holds a claimed item before another may take it over
        (renewed while the worker sends it).
    :param batch_size: items a worker claims at once.
    :param poll_interval: longest idle wait of a worker, to see items other processes add.
    :param tenant: on PostgreSQL, the pharmacy (FINESS) whose items this outbox sees.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        runtime: Any = None,
        senders: Mapping[str, Sender] | None = None,
        settings: OutboxSettings | None = None,
        horizon: float = DEFAULT_HORIZON_HOURS * 3600,
        max_attempts: int | None = None,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        clock: Callable[[], float] = time.time,
        lease: float = 60.0,
        batch_size: int = 32,
        poll_interval: float = 0.5,
        tenant: str | None = None,
    ) -> None:
        if settings is None:
            try:
                policy = RetryPolicy(horizon, base_delay, max_delay, max_attempts)
            except ValueError as exc:
                raise OutboxError(str(exc)) from None
            settings = OutboxSettings(default=policy, lease=lease)
        if not settings.lease > 0 or batch_size < 1:
            raise OutboxError("lease must be positive and batch_size at least 1")
        self.path: Path | str = path if is_url(path) else Path(path)
        self.runtime = runtime
        self.settings = settings
        self.lease = settings.lease
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._clock = clock
        self._store = open_store(self.path, clock=clock, tenant=tenant)
        self._explicit: dict[str, Sender] = dict(senders or {})
        self._senders: dict[str, Sender] | None = None
        self._senders_lock = threading.RLock()  # a sender hook may register senders
        self._wake = threading.Condition()
        self._pool: WorkerPool | None = None
        self._renewer = LeaseRenewer(self._store, self.lease)
        self._backoffs: dict[RetryPolicy, Backoff] = {}
        self._next_drop = 0.0  # when delivered payloads past their retention are looked for
        #: Names this outbox's claims (with a suffix per worker thread and batch).
        self.worker_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    # -- senders ---------------------------------------------------------------------------

    def register_sender(self, kind: str, sender: Sender) -> None:
        """Send items of ``kind`` with ``sender`` (replacing any other sender of it)."""
        if not callable(sender):
            raise OutboxError(f"the sender of {kind!r} is not callable")
        with self._senders_lock:
            self._explicit[kind] = sender
            if self._senders is not None:
                self._senders[kind] = sender
        self.wake()

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
        if created and self._pool is not None:  # only worker threads wait to be woken
            self.wake()
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

    def next_due(self) -> float | None:
        """When the next unsettled item of a kind with a sender may be attempted (clock
        time), or ``None`` when there is none."""
        return self._store.next_due(self.senders().keys())

    def retry(self, ident: int) -> Delivery:
        """Give a dead item a new attempt budget and horizon (DEAD → PENDING), or make a
        pending one due now. Anything else is an :class:`OutboxError`."""
        delivery = self._store.retry(ident)
        self._journal("outbox.retry", delivery, outcome="ok", details={"requested": True})
        self.wake()
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

    def drop_payloads(self, older_than: dt.timedelta | float | None = None) -> int:
        """Empty the payload of delivered items delivered at least ``older_than`` ago
        (default: the ``payload_retention_days`` setting), keeping their record; return
        how many. Workers do it by themselves every few minutes."""
        if older_than is None:
            older_than = self.settings.payload_retention
        elif isinstance(older_than, dt.timedelta):
            older_than = older_than.total_seconds()
        now = self._clock()
        self._next_drop = now + _DROP_EVERY
        return self._store.drop_payloads(now - older_than)

    def compact(self) -> None:
        """Give the space freed by purges and dropped payloads back to the file system."""
        self._store.compact()

    def _drop_expired_payloads(self) -> None:
        """:meth:`drop_payloads` when it is due (every :data:`_DROP_EVERY` seconds); a
        storage failure is logged, never raised into a delivery."""
        if self._clock() < self._next_drop:
            return
        try:
            self.drop_payloads()
        except OutboxError as exc:
            self._next_drop = self._clock() + _DROP_EVERY
            log.warning("dropping delivered payloads failed: %s", exc.message)

    # -- delivering ------------------------------------------------------------------------

    def deliver_due(self, limit: int | None = None, *, stop: threading.Event | None = None) -> int:
        """Attempt, in this thread, every item due now (at most ``limit``, none after
        ``stop`` is set: the batch in hand is finished); return the number of attempts
        made. Does not wait for retries scheduled later."""
        self.announce_lost_settlements()
        self._drop_expired_payloads()
        done = 0
        while (limit is None or done < limit) and not (stop is not None and stop.is_set()):
            batch = self.batch_size if limit is None else min(self.batch_size, limit - done)
            attempted = self.deliver_batch(batch, self.worker_id)
            if attempted == 0:
                break
            done += attempted
        return done

    def run_until_idle(self, timeout: float = 30.0, *, stop: threading.Event | None = None) -> bool:
        """Deliver in this thread until no item of a kind with a sender is left
        unsettled (waiting for scheduled retries and expired leases); ``False`` when
        ``timeout`` seconds pass first, or once ``stop`` is set (a signal: the batch in
        hand is finished, the rest left pending)."""
        deadline = time.monotonic() + timeout
        stop = stop if stop is not None else threading.Event()
        while True:
            self.deliver_due(stop=stop)
            kinds = self.senders().keys()
            if not self._store.unsettled(kinds):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.is_set():
                return False
            due = self._store.next_due(kinds)
            wait = self.poll_interval if due is None else due - self._clock()
            stop.wait(max(0.001, min(wait, remaining, self.poll_interval)))

    def start_worker(self, threads: int = 1) -> None:
        """Deliver in ``threads`` background threads until :meth:`stop_worker`."""
        if self._pool is not None and self._pool.alive:
            return
        self.announce_lost_settlements()
        subscribe = getattr(self._store, "subscribe", None)
        if subscribe is not None:  # a server that announces new items (PostgreSQL NOTIFY)
            subscribe(self.wake)
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
        self._renewer.stop()
        self._store.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Outbox({str(self.path)!r})"

    # -- what worker threads call ----------------------------------------------------------

    def wake(self) -> None:
        """Wake the worker threads waiting for work (something was queued, or they stop)."""
        with self._wake:
            self._wake.notify_all()

    def wait_for_work(self, stop: threading.Event) -> None:
        """Sleep until an item may be due, something is enqueued, or ``stop``."""
        if stop.is_set():
            return
        self._drop_expired_payloads()
        due = self._store.next_due(self.senders().keys())
        wait = self.poll_interval if due is None else due - self._clock()
        with self._wake:
            if not stop.is_set():
                self._wake.wait(max(0.0, min(wait, self.poll_interval)))

    def deliver_batch(self, limit: int, owner: str | None = None) -> int:
        """Claim up to ``limit`` due items for ``owner`` (this outbox's
        :attr:`worker_id` by default) and attempt them in this thread, keeping their
        lease while they are sent; return how many were claimed."""
        owner = owner or self.worker_id
        senders = self.senders()
        if not senders:
            return 0
        claim_owner = f"{owner}-{uuid.uuid4().hex[:8]}"
        items = self._store.claim(claim_owner, limit=limit, lease=self.lease, kinds=senders)
        if not items:
            return 0
        with self._renewer.keep([i.id for i in items], claim_owner) as lease:
            for item in items:
                if lease.holds(item.id):  # else another worker took it over: it sends it
                    self._attempt(item, senders[item.kind])
                lease.release(item.id)
        return len(items)

    def announce_lost_settlements(self) -> None:
        """Announce settlements whose worker died between settling and announcing (those
        settled more than a lease ago). Announced before being marked, so that a second
        crash cannot lose them: after a crash an event may come twice, never not at all."""
        if self.runtime is None:
            return
        for delivery in self._store.unnotified(self._clock() - self.lease):
            self._announce(delivery)
            self._store.mark_notified(delivery.id)

    # -- internals -------------------------------------------------------------------------

    def _backoff(self, policy: RetryPolicy) -> Backoff:
        backoff = self._backoffs.get(policy)
        if backoff is None:
            backoff = self._backoffs[policy] = Backoff(policy.base_delay, policy.max_delay)
        return backoff

    def _attempt(self, item: Claimed, sender: Sender) -> None:
        policy = self.settings.policy(item.kind)
        if policy.max_attempts is not None and item.attempts > policy.max_attempts:
            self._settle(  # the worker of its last attempt died
                item,
                DeliveryState.DEAD,
                error=f"gave up after {policy.max_attempts} attempts"
                " (the last one was interrupted)",
            )
            return
        if item.attempts > 1 and self._clock() >= item.queued_at + policy.horizon + self.lease:
            # only a takeover comes this late (the last retry is due at the horizon): the
            # worker of its last attempt died, maybe because of the item; do not retry a
            # crash for ever
            self._settle(
                item,
                DeliveryState.DEAD,
                error=f"gave up after {item.attempts - 1} attempts, {policy.describe()}"
                " (the last one was interrupted)",
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
            now = self._clock()
            if failure.transient and not policy.gives_up(item.attempts, item.queued_at, now):
                # one last attempt at the horizon rather than none after the last delay
                horizon_end = item.queued_at + policy.horizon
                delay = min(self._backoff(policy).delay(item.attempts), horizon_end - now)
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
            if failure.transient:
                reason = (
                    f"no attempts left: {item.attempts} in {_duration(now - item.queued_at)},"
                    f" {policy.describe()}"
                )
            else:
                reason = "permanent failure"
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
        """``on_delivery_settled``, then ``on_delivery_dead`` for a dead letter."""
        try:
            self.runtime.delivery_settled(delivery)
        except Exception as exc:  # the runtime contains plugin failures; this is a backstop
            log.error("announcing delivery %s failed: %s", delivery.id, type(exc).__name__)
        if delivery.state is not DeliveryState.DEAD:
            return
        announce_dead = getattr(self.runtime, "delivery_dead", None)
        if announce_dead is None:
            return
        try:
            announce_dead(delivery)
        except Exception as exc:
            log.error("announcing dead delivery %s failed: %s", delivery.id, type(exc).__name__)

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
