"""The durable outbox: idempotent, retried, dead-lettered deliveries to national services.

``runtime.outbox.enqueue(kind, key, payload)`` writes an item to a SQLite (WAL) queue;
workers hand it to the sender of its kind, retrying transient failures with capped
exponential backoff and jitter until the kind's time horizon has passed (72 hours by
default, ``[segur.outbox]``); permanent failures and exhausted retries become dead letters
with their last error; every settled item fires ``on_delivery_settled`` once, and a dead
one ``on_delivery_dead`` too. A storage failure is an :class:`OutboxStorageError`, a
:class:`~segur_core.errors.DurabilityError`: what was being queued is not queued.
"""

from segur_core.outbox.core import Outbox
from segur_core.outbox.policy import OutboxSettings, RetryPolicy
from segur_core.outbox.retry import Backoff, Failure, classify
from segur_core.outbox.store import (
    Claimed,
    OutboxError,
    OutboxStorageError,
    UnknownDeliveryError,
)

__all__ = [
    "Backoff",
    "Claimed",
    "Failure",
    "Outbox",
    "OutboxError",
    "OutboxSettings",
    "OutboxStorageError",
    "RetryPolicy",
    "UnknownDeliveryError",
    "classify",
]
