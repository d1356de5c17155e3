"""The durable outbox: idempotent, retried, dead-lettered deliveries to national services.

``runtime.outbox.enqueue(kind, key, payload)`` writes an item to a SQLite (WAL) queue;
workers hand it to the sender of its kind with bounded retries, exponential backoff and
jitter; permanent failures and exhausted retries become dead letters with their last
error; every settled item fires ``on_delivery_settled`` once.
"""

from segur_core.outbox.core import Outbox
from segur_core.outbox.retry import Backoff, Failure, classify
from segur_core.outbox.store import Claimed, OutboxError, UnknownDeliveryError

__all__ = [
    "Backoff",
    "Claimed",
    "Failure",
    "Outbox",
    "OutboxError",
    "UnknownDeliveryError",
    "classify",
]
