"""Storage faults in words: why a SQLite store of the data directory cannot be opened,
read or written.

The outbox and the audit journal are SQLite files; a fault under them (a full disk, a
read-only file system, a damaged page, a lock held by another program) becomes their
typed storage error naming the file and the cause, never SQLite's own last words
("cannot rollback - no transaction is active").
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Protocol, TypeVar

__all__ = ["cause", "error"]

_CHECK = "check the data directory"
_WRITABLE = "make the data directory writable"

#: SQLite primary result codes (``sqlite_errorcode & 0xFF``) in words, with a hint.
_SQLITE = {
    5: ("the file is locked by another program", f"close it, or {_CHECK}"),
    8: ("the file is read-only", _WRITABLE),
    10: ("an I/O error occurred", "check the disk and the data directory"),
    11: ("the file is damaged", "restore the {store} from a backup"),
    13: ("the disk is full", "free space in the data directory, then try again"),
    14: ("the file cannot be opened", f"{_CHECK} and its permissions"),
    26: ("the file is not a segur {store}", _CHECK),
}
#: OS error numbers (of the files beside a database: keys, checkpoints) in words.
_OS = {
    errno.ENOSPC: _SQLITE[13],
    errno.EDQUOT: ("the disk quota is exhausted", "free space in the data directory"),
    errno.EFBIG: ("the file is too large", _CHECK),
    errno.EROFS: ("the file is read-only", _WRITABLE),
    errno.EACCES: ("the file is not writable", _WRITABLE),
    errno.EPERM: ("the file is not writable", _WRITABLE),
    errno.EIO: _SQLITE[10],
}


class _StorageError(Protocol):
    def __init__(self, message: str, *, path: object = ..., hint: str | None = ...) -> None: ...


E = TypeVar("E", bound=_StorageError)


def cause(path: Path, exc: BaseException, store: str = "store") -> tuple[str, str] | None:
    """The cause of ``exc`` (a SQLite or OS error met on ``path``) in words and a hint,
    or ``None`` when it is not one of the known storage faults.

    SQLite only says it cannot open a WAL database whose ``-shm`` file it cannot create:
    an unknown, read-only or cannot-open cause is made precise from the file system."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        found = _SQLITE.get(-1 if code is None else code & 0xFF)
    else:
        found = _OS.get(getattr(exc, "errno", None) or -1)
    if found in (None, _SQLITE[8], _SQLITE[14]):
        read_only = _read_only(path)
        found = (read_only, _WRITABLE) if read_only else found
    return None if found is None else (found[0].format(store=store), found[1].format(store=store))


def error(
    kind: type[E],
    path: Path,
    store: str,
    doing: str,
    exc: BaseException,
    *,
    hint: str | None = None,
) -> E:
    """A ``kind`` (a storage :class:`~segur_core.errors.DurabilityError`) saying that
    ``doing`` the ``store`` at ``path`` failed, and why: "cannot write the audit journal
    /data/journal.sqlite: the disk is full (database or disk is full)". ``hint`` replaces
    the hint that goes with the cause."""
    detail = str(exc) or type(exc).__name__
    found = cause(path, exc, store)
    words, default = found if found else (detail, _CHECK)
    if found and detail != words:
        words = f"{words} ({detail})"
    return kind(f"cannot {doing} the {store} {path}: {words}", path=path, hint=hint or default)


def _read_only(path: Path) -> str | None:
    """Why ``path`` cannot be written, when it is read-only."""
    try:
        if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
            return "the file system is read-only"
        if path.exists() and not os.access(path, os.W_OK):
            return "the file is read-only"
        if not os.access(path.parent, os.W_OK):
            return "the directory is read-only"
    except OSError:
        return None
    return None
