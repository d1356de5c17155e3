"""Who acts through a runtime: the records the code writes without naming a person get
the runtime's actor (``cli:<login>`` for the ``segur`` command line).

A record names who acted: a person when the code knows one (a pharmacist's RPPS on a
validated document), else the runtime's actor, else the component (``plugin:dmp``).
With an actor set, a record that names only a component (``plugin:…``) names the actor
instead: its ``service`` already says which component did the work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ActingJournal", "acting"]

_COMPONENT = "plugin:"


class ActingJournal:
    """A journal whose records name ``actor`` when their writer named nobody, or only a
    component; everything else is the wrapped journal's."""

    def __init__(self, journal: Any, actor: str) -> None:
        self.journal = journal
        self.actor = actor

    def _who(self, actor: str | None) -> str:
        return self.actor if not actor or actor.startswith(_COMPONENT) else actor

    def record(self, action: str, *, actor: str | None = None, **fields: Any) -> Any:
        return self.journal.record(action, actor=self._who(actor), **fields)

    def record_many(self, entries: Sequence[Mapping[str, Any]]) -> Any:
        return self.journal.record_many(
            [{**entry, "actor": self._who(entry.get("actor"))} for entry in entries]
        )

    def record_later(self, entries: Sequence[Mapping[str, Any]]) -> None:
        self.journal.record_later(
            [{**entry, "actor": self._who(entry.get("actor"))} for entry in entries]
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.journal, name)

    def __enter__(self) -> ActingJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.journal.close()


def acting(journal: Any, actor: str | None) -> Any:
    """``journal`` itself without an actor, else wrapped in an :class:`ActingJournal`."""
    return journal if not actor else ActingJournal(journal, actor)
