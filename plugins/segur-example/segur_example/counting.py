"""Counting events per runtime, and reading the counts back from the journal."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

__all__ = ["ACTION", "EventCounter", "counts_from_journal"]

#: The journal action of one counted event.
ACTION = "example.event"


class EventCounter:
    """Thread-safe counts of the events one runtime dispatched."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, event: str) -> None:
        with self._lock:
            self._counts[event] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


def counts_from_journal(journal: Any) -> dict[str, int]:
    """Counts of every event this plugin journaled, across all runs on this data dir."""
    counts: Counter[str] = Counter()
    for record in journal.records():
        if record.action == ACTION:
            counts[record.details.get("event", "?")] += 1
    return dict(sorted(counts.items()))
