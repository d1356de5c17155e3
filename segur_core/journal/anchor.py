"""Checkpoints of the audit journal, kept outside it: the number of records and the hash
of the last one, at a moment, keyed with HMAC-SHA256.

The chain inside the journal shows a record modified, moved or removed among others; it
cannot show a journal cut at its end, emptied, replaced by an empty file, or rewritten
from some record on with its ``head`` and ``sqlite_sequence`` edited to match. A
checkpoint pins what the journal held: a journal with fewer records than a checkpoint
counted, or another record at that number, no longer matches it.

Checkpoints are JSON lines appended (``O_APPEND``) to a file beside the journal, written
after each commit group (or at most every ``interval`` seconds), each with an HMAC under
a key kept in another file: editing the journal database cannot touch them, and nobody
without the key can write one that verifies. The first line of a file says how many
records the journal held when it was started and whether the key already existed: a
file started over a journal with records, or with a key that outlived its file, means
records that no checkpoint anchors (a journal from before checkpoints, or a deleted
checkpoint file), and stays reported until an operator adopts them
(:meth:`Anchor.write` with ``adopt``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from segur_core.files import DIR_MODE, FILE_MODE, restrict
from segur_core.journal.chain import GENESIS, canonical
from segur_core.journal.records import Problem, ProblemKind

__all__ = ["Anchor", "Checkpoint", "parse_expected_head"]

KEY_SIZE = 32
_text = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
_VERSION = 1
#: Problems of one kind reported one by one before the rest are summed up.
_SHOWN = 5


@attrs.frozen
class Checkpoint:
    """One checkpoint: ``count`` records, the last one's hash ``head``, written ``at``.

    ``started`` is set on the first line of a checkpoint file: the number of records the
    journal held then; ``key_existed`` whether the key was older than the file;
    ``adopted`` marks a checkpoint by which an operator vouched for the records before it.
    """

    count: int
    head: str
    at: str
    started: int | None = None
    key_existed: bool = False
    adopted: bool = False
    line: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "head": self.head, "at": self.at}


def parse_expected_head(text: str) -> tuple[int, str]:
    """``COUNT:HASH`` (what ``segur audit verify`` prints) as ``(count, hash)``."""
    count, sep, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    if (
        not sep
        or not count.isdigit()
        or len(count) > 18
        or len(digest) != 64
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise ValueError(f"expected COUNT:HASH (a record number and 64 hex digits), not {text!r}")
    return int(count), digest


class Anchor:
    """The checkpoint file ``path`` of one journal and its key file ``key_path``.

    The journal calls :meth:`start` inside its first write transaction (so that the
    first line counts exactly what the journal held) and :meth:`after_commit` after each
    commit group. Not thread-safe on its own: the journal calls it under its lock.
    """

    def __init__(
        self,
        path: Path,
        key_path: Path,
        *,
        interval: float = 0.0,
        clock: Callable[[], dt.datetime],
        monotonic: Callable[[], float],
    ) -> None:
        self.path = Path(path)
        self.key_path = Path(key_path)
        self.interval = interval
        self._clock = clock
        self._monotonic = monotonic
        self._key: bytes | None = None
        self._fd: int | None = None
        self._pending: tuple[int, str] | None = None  # a head not checkpointed yet
        self._last_time = float("-inf")

    # -- writing ---------------------------------------------------------------------------

    def start(self, count: int, head: str) -> None:
        """Open the checkpoint file for appending, creating it (and the key when absent)
        with its first line for a journal of ``count`` records ending at ``head``.

        Called inside the journal's write transaction: writers of other processes wait,
        so the count is exact and one process only creates the file."""
        if self._fd is not None:
            return
        _, key_existed = self._load_or_create_key()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            restrict(self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            return
        self._fd = fd
        self._write_fields(
            {"count": count, "head": head, "started": count, "key_existed": key_existed}
        )

    def after_commit(self, count: int, head: str, at: str) -> None:
        """Checkpoint the journal's new head, committed at ``at`` (ISO 8601), unless the
        last checkpoint is under ``interval`` seconds old (then :meth:`flush` or the next
        commit writes it)."""
        now = self._monotonic()
        if self.interval > 0 and now - self._last_time < self.interval:
            self._pending = (count, head)
            return
        self._last_time = now
        self._pending = None
        # the common case, written without json's encoder set-up (same canonical bytes)
        text = f'{{"at":"{at}","count":{int(count)},"head":{_text(head)},"v":{_VERSION}}}'
        self._append(text)

    def flush(self) -> None:
        """Write the checkpoint an ``interval`` held back, if any."""
        if self._pending is not None:
            self.write(*self._pending)

    def write(self, count: int, head: str, *, adopt: bool = False) -> Checkpoint:
        """Append a checkpoint for ``count`` records ending at ``head``, now. With
        ``adopt``, an operator vouches for records that no earlier checkpoint anchors."""
        fields: dict[str, Any] = {"count": count, "head": head}
        if adopt:
            fields["adopt"] = True
        self._pending = None
        return self._write_fields(fields)

    def _write_fields(self, fields: dict[str, Any]) -> Checkpoint:
        body = {"v": _VERSION, **fields, "at": self._clock().astimezone(dt.UTC).isoformat()}
        self._append(canonical(body).decode("utf-8"))
        return _checkpoint(body, 0)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _append(self, text: str) -> None:
        """Write one line: ``text``, the canonical form of a checkpoint (what its MAC
        covers), with the MAC added, in one ``write`` (lines never interleave)."""
        key = self._key if self._key is not None else self._load_or_create_key()[0]
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        mac = hmac.digest(key, text.encode("utf-8"), "sha256").hex()
        os.write(self._fd, f'{text[:-1]},"mac":"{mac}"}}\n'.encode())

    def _load_or_create_key(self) -> tuple[bytes, bool]:
        """The key and whether it existed; created 0600 when absent."""
        if self._key is not None:
            return self._key, True
        try:
            key = self.key_path.read_bytes()
            restrict(self.key_path)
            existed = True
        except FileNotFoundError:
            self.key_path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            key = secrets.token_bytes(KEY_SIZE)
            try:
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            except FileExistsError:
                return self._load_or_create_key()
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
                handle.flush()
                os.fsync(handle.fileno())
            existed = False
        if len(key) < 16:
            raise OSError(f"the checkpoint key {self.key_path} is too short ({len(key)} bytes)")
        self._key = key
        return key, existed

    # -- checking --------------------------------------------------------------------------

    def check(
        self,
        hashes: Mapping[int, str],
        last: int,
        *,
        expect: tuple[int, str] | None = None,
    ) -> tuple[list[Problem], Checkpoint | None, list[str]]:
        """Compare a journal (its record hashes by number, the last number) with the
        checkpoints and with ``expect`` (an anchor kept elsewhere).

        Returns the problems, the checkpoint with the highest count, and notes."""
        problems: list[Problem] = []
        notes: list[str] = []
        if expect is not None:
            problems += _against(hashes, last, expect[0], expect[1], "the expected head")
        key = self._read_key()
        lines = self._read_lines()
        if lines is None:  # no checkpoint file
            if key is not None:
                problems.append(
                    Problem(
                        1,
                        ProblemKind.UNANCHORED,
                        f"the checkpoint file {self.path} is missing but its key exists: "
                        "it was deleted, and the journal cannot be checked against it",
                    )
                )
            elif last > 0:
                problems.append(
                    Problem(
                        1,
                        ProblemKind.UNANCHORED,
                        f"the journal has {last} records and no checkpoint ({self.path} is "
                        "missing): its end and its rewriting cannot be checked",
                    )
                )
            return problems, None, notes
        if key is None:
            problems.append(
                Problem(
                    1,
                    ProblemKind.BAD_CHECKPOINT,
                    f"the checkpoint key {self.key_path} is missing: "
                    "the checkpoints cannot be checked",
                )
            )
            return problems, None, notes
        checkpoints: list[Checkpoint] = []
        bad: list[int] = []
        for number, text in enumerate(lines, 1):
            checkpoint = _parse(key, text, number)
            if checkpoint is None:
                bad.append(number)
            else:
                checkpoints.append(checkpoint)
        if bad:
            shown = ", ".join(map(str, bad[:_SHOWN])) + (" ..." if len(bad) > _SHOWN else "")
            problems.append(
                Problem(
                    0,
                    ProblemKind.BAD_CHECKPOINT,
                    f"{len(bad)} line(s) of {self.path} are not checkpoints written with its "
                    f"key (forged, edited or cut): line(s) {shown}",
                )
            )
        problems += self._unanchored(checkpoints, last, notes)
        latest = max(checkpoints, key=lambda c: c.count, default=None)
        if latest is not None and latest.count > last:  # the one that counted most says most
            problems += _against(hashes, last, latest.count, latest.head, _name(latest))
        for checkpoint in sorted(checkpoints, key=lambda c: c.count):
            if checkpoint.count <= last:  # the earliest mismatch: rewritten from there at most
                rewritten = _against(
                    hashes, last, checkpoint.count, checkpoint.head, _name(checkpoint)
                )
                if rewritten:
                    problems += rewritten
                    break
        return problems, latest, notes

    def _unanchored(
        self, checkpoints: list[Checkpoint], last: int, notes: list[str]
    ) -> list[Problem]:
        if not checkpoints and last > 0:
            return [
                Problem(
                    1,
                    ProblemKind.UNANCHORED,
                    f"the journal has {last} records and {self.path} holds no valid checkpoint",
                )
            ]
        if checkpoints and checkpoints[0].started is None:
            return [
                Problem(
                    0,
                    ProblemKind.BAD_CHECKPOINT,
                    f"{self.path} does not begin with its first checkpoint: lines were removed",
                )
            ]
        problems = []
        adopted = max((c.count for c in checkpoints if c.adopted), default=-1)
        for checkpoint in checkpoints:
            if checkpoint.started is None:
                continue
            if checkpoint.started == 0 and not checkpoint.key_existed:
                continue
            why = (
                f"{self.path} was started at record {checkpoint.started} with a key that "
                "existed already: the checkpoint file was deleted and started over"
                if checkpoint.key_existed
                else f"{self.path} was started when the journal already held "
                f"{checkpoint.started} records (a journal from before checkpoints?)"
            )
            if adopted >= checkpoint.started:
                notes.append(f"{why}; an operator adopted the journal up to record {adopted}")
                continue
            problems.append(
                Problem(
                    1,
                    ProblemKind.UNANCHORED,
                    f"records 1-{checkpoint.started} are not anchored: {why}",
                )
            )
        return problems

    def _read_key(self) -> bytes | None:
        if self._key is not None:
            return self._key
        try:
            return self.key_path.read_bytes()
        except FileNotFoundError:
            return None

    def _read_lines(self) -> list[str] | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return [line for line in data.decode("utf-8", "replace").split("\n") if line.strip()]


def _mac(key: bytes, body: Mapping[str, Any]) -> str:
    return hmac.digest(key, canonical(dict(body)), "sha256").hex()


def _parse(key: bytes, text: str, number: int) -> Checkpoint | None:
    """The checkpoint on one line, or None when it is malformed or its MAC is wrong."""
    try:
        body = json.loads(text)
        mac = body.pop("mac")
        if not isinstance(body, dict) or not isinstance(mac, str):
            return None
        if not hmac.compare_digest(mac, _mac(key, body)):
            return None
        return _checkpoint(body, number)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _checkpoint(body: Mapping[str, Any], number: int) -> Checkpoint:
    count, head, at = body["count"], body["head"], body["at"]
    if not isinstance(count, int) or count < 0 or not isinstance(head, str):
        raise ValueError("not a checkpoint")
    started = body.get("started")
    return Checkpoint(
        count=count,
        head=head,
        at=str(at),
        started=started if isinstance(started, int) else None,
        key_existed=bool(body.get("key_existed")),
        adopted=bool(body.get("adopt")),
        line=number,
    )


def _against(
    hashes: Mapping[int, str], last: int, count: int, head: str, what: str
) -> list[Problem]:
    """What is wrong with the journal against an anchor of ``count`` records ending at
    ``head`` (``what`` names the anchor)."""
    if count > last:
        missing = f"record {count}" if count == last + 1 else f"records {last + 1}-{count}"
        return [
            Problem(
                last + 1,
                ProblemKind.DELETED,
                f"{missing} deleted at the end: {what} counted {count} records",
            )
        ]
    expected = GENESIS if count == 0 else hashes.get(count)
    if expected != head:
        return [
            Problem(
                count,
                ProblemKind.REWRITTEN,
                f"record {count} is not the one {what} anchored: "
                "the journal was rewritten up to there",
            )
        ]
    return []


def _name(checkpoint: Checkpoint) -> str:
    return f"the checkpoint of {checkpoint.at}"
