"""Records that may wait for the next record of the same call, to share its commit.

A call of ``segur serve`` journals what its handler did (an INSi search) and then the call
itself (``api.call``), both durable before the answer: two commits where one would do. A
record after which nothing happens but more records and the answer may instead be passed
to :meth:`~segur_core.journal.store.JournalBase.record_later`: within a :func:`deferring`
scope (each API call is one), it waits for the next record this thread writes to the same
journal, and both are appended in one transaction, the waiting ones first; at the end of
the scope, whatever still waits is written. Outside a scope, ``record_later`` writes at
once, as ``record_many`` does.

What waits is not yet durable. A record that must be durable before some later step (the
host saving a patient, a message sent) is written with ``record_many`` before that step,
and takes whatever waits with it, so the order of the trail never changes. A process that
dies between the step a waiting record describes and the end of its call loses that
record, as it would have lost it dying just before writing it: the window grows from the
record's own write to the rest of the call, which sends nothing outside before the
commit (the answer goes out after it). docs/reliability.md says so. A write that fails
(a full disk) fails for the records that waited for it too: none is written, and the
call answers the journal's error, as it did when the record itself could not be written.

The scope is a context variable: records written by other threads are not held back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

__all__ = ["deferring", "take_waiting", "wait_or_write"]

#: The records waiting in this context's scope, by journal (``id``): the journal and them.
_waiting: ContextVar[dict[int, tuple[Any, list[Any]]] | None] = ContextVar(
    "segur_journal_waiting", default=None
)


@contextlib.contextmanager
def deferring() -> Iterator[None]:
    """A scope in which :func:`wait_or_write` holds records back; at its end (an
    exception's too) the records still waiting are written, and a journal that cannot
    write them raises its error."""
    waiting: dict[int, tuple[Any, list[Any]]] = {}
    token = _waiting.set(waiting)
    try:
        yield
    finally:
        try:
            for journal, _ in list(waiting.values()):
                journal.record_many([])  # writes what waits for it
        finally:
            _waiting.reset(token)


def wait_or_write(journal: Any, prepared: Sequence[Any]) -> bool:
    """Keep ``prepared`` (records checked and normalised by the journal) for
    ``journal``'s next write in this scope and say so; ``False`` outside a scope (the
    caller writes them itself)."""
    waiting = _waiting.get()
    if waiting is None:
        return False
    waiting.setdefault(id(journal), (journal, []))[1].extend(prepared)
    return True


def take_waiting(journal: Any) -> list[Any]:
    """The records waiting for ``journal`` in this scope, as they were kept; they no
    longer wait (the caller writes them before its own)."""
    waiting = _waiting.get()
    if not waiting or id(journal) not in waiting:
        return []
    return waiting.pop(id(journal))[1]
