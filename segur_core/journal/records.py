"""Value types of the audit journal: a record, and what verification found."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs

__all__ = ["JournalRecord", "Problem", "ProblemKind", "VerifyReport"]


@attrs.frozen
class JournalRecord:
    """One audit record. ``seq`` numbers records from 1 in the order they were written;
    ``hash`` chains it to the record before (``prev_hash``). ``damaged`` says what could
    not be read back from a row tampered with (``at`` is then None when not a date)."""

    seq: int
    at: dt.datetime | None
    action: str
    outcome: str = "ok"
    service: str | None = None
    patient_id: str | None = attrs.field(default=None, repr=False)
    actor: str | None = None
    details: dict[str, Any] = attrs.Factory(dict)
    prev_hash: str = ""
    hash: str = ""
    damaged: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``at`` as ISO 8601; ``damaged`` only on a damaged record)."""
        data = attrs.asdict(self)
        data["at"] = self.at.isoformat() if self.at is not None else None
        if self.damaged:
            data["damaged"] = list(self.damaged)
        else:
            del data["damaged"]
        return data


class ProblemKind(enum.StrEnum):
    """What verification found wrong with a record."""

    MODIFIED = "modified"  # the record's content no longer matches its own hash
    DELETED = "deleted"  # one or more records are missing (a gap, or the tail)
    REORDERED = "reordered"  # the record links to another record than the one before it
    BAD_CHAIN = "bad-chain"  # the link to the previous record matches no record
    REWRITTEN = "rewritten"  # a record is not the one a checkpoint (or --expect-head) anchored
    UNANCHORED = "unanchored"  # records no checkpoint anchors (checkpoint file missing, restarted)
    BAD_CHECKPOINT = "bad-checkpoint"  # a checkpoint forged, edited or cut, or its key missing


@attrs.frozen
class Problem:
    """One problem: the record number it was found at, its kind and a readable message."""

    seq: int
    kind: ProblemKind
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": str(self.kind), "message": self.message}


@attrs.frozen
class VerifyReport:
    """The result of :meth:`Journal.verify`. ``ok`` when no problem was found;
    ``first_bad`` is the number of the first record with a problem."""

    checked: int
    problems: tuple[Problem, ...] = ()
    head: str | None = None
    count: int = 0  # the number of the last record (what ``--expect-head`` takes, with head)
    checkpoint: dict[str, Any] | None = None  # the latest checkpoint: count, head, at
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> int | None:
        return min((p.seq for p in self.problems), default=None)

    def kinds(self) -> set[ProblemKind]:
        return {p.kind for p in self.problems}

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad": self.first_bad,
            "head": self.head,
            "count": self.count,
            "checkpoint": self.checkpoint,
            "notes": list(self.notes),
            "problems": [p.as_dict() for p in self.problems],
        }
