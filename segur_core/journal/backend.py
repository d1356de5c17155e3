"""The journal's storage seam: what the runtime, ``segur audit`` and the outbox ask of
an audit journal, and which journal a location names.

A location is a SQLite file (one pharmacy, the default: :class:`~segur_core.journal.Journal`)
or a ``postgresql://`` URL (a group or a cloud LGO: one hash chain per pharmacy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, Self

from segur_core.journal.records import JournalRecord, VerifyReport

__all__ = ["JournalBackend"]


class JournalBackend(Protocol):
    """An append-only, hash-chained audit trail (see :class:`~segur_core.journal.Journal`
    for what each method promises)."""

    def record(
        self,
        action: str,
        *,
        outcome: str = "ok",
        service: str | None = None,
        patient_id: str | None = None,
        actor: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> JournalRecord: ...

    def record_many(self, entries: Sequence[Mapping[str, Any]]) -> list[JournalRecord]: ...

    def record_later(self, entries: Sequence[Mapping[str, Any]]) -> None: ...

    def records(
        self,
        patient_id: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalRecord]: ...

    def stream(
        self,
        patient_id: str | None = None,
        since: dt.datetime | None = None,
        *,
        about_no_patient: bool = False,
        batch: int = 1000,
    ) -> Iterator[JournalRecord]: ...

    def pseudonym(self, patient_id: str | None) -> str | None: ...

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> VerifyReport: ...

    def head(self) -> tuple[int, str]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...
