"""One INSi search as a value, and the pace of many.

:func:`lookup` makes one search with nothing but a client and returns a :class:`Lookup`
(the answer, or the error that stopped it): the service journals and applies it, the
batch's threads and worker processes only make it. :class:`RateLimiter` paces the
searches of a batch. Both sit below the service, the batch and the workers, which all
import them.
"""

from __future__ import annotations

import threading
import time

import attrs

from segur_core.errors import IdentityError
from segur_core.model import CardReading, IdentityTraits
from segur_ins.insi import CR_NOT_FOUND, InsiClient, InsiError, InsiResult
from segur_ins.insi.client import uses_vitale_operation

__all__ = ["OPERATIONS", "Lookup", "RateLimiter", "lookup"]


@attrs.frozen
class Lookup:
    """One INSi search, made but not yet journaled nor applied (see :meth:`InsService.lookup`).

    ``result`` is the answer; otherwise ``error`` says what stopped the search: an
    :class:`InsiError` (the call failed) or an :class:`IdentityError` (the traits break
    the RNIV lexical rules: INSi was not called).
    """

    operation: str
    result: InsiResult | None = None
    error: InsiError | IdentityError | None = None


_TRAITS_OPERATION = "rechercherInsAvecTraitsIdentite"
_VITALE_OPERATION = "rechercherInsAvecCarteVitale"
#: The INSi search operations, as journaled (``operation`` of an ``insi.search`` record).
OPERATIONS = (_TRAITS_OPERATION, _VITALE_OPERATION)


def lookup(
    client: InsiClient,
    *,
    reading: CardReading | None = None,
    traits: IdentityTraits | None = None,
) -> Lookup:
    """One INSi search (the Vitale operation for a NIR read from a card, else traits
    with the first-name strategy), neither journaled nor applied: only the call. Never
    raises :class:`InsiError` or :class:`IdentityError`: they are in the
    :class:`Lookup`. Needs nothing but the client: the batch's worker processes call it."""
    by_card = reading is not None and uses_vitale_operation(reading)
    operation = _VITALE_OPERATION if by_card else _TRAITS_OPERATION
    try:
        if reading is not None:
            result = client.lookup_reading(reading)
            if by_card and result.code == CR_NOT_FOUND:
                fallback = client.lookup_traits(reading.traits)
                result = attrs.evolve(fallback, attempts=fallback.attempts + 1)
                operation = _TRAITS_OPERATION
        else:
            assert traits is not None
            result = client.lookup_traits(traits)
    except (InsiError, IdentityError) as exc:
        return Lookup(operation, error=exc)
    return Lookup(operation, result=result)


class RateLimiter:
    """At most ``rate`` acquisitions per second across threads (0: unlimited)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + self.interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)
