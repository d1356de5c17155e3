"""Private files and directories: a data directory 0700, its files 0600, whatever the umask.

The data directory holds patient data (the outbox keeps CDA payloads and INS, the
journal every access, the reference host its patients) and keys: nobody but the
installation's user may read it. Files are created 0600 and an existing file is brought
back to 0600 (a key regenerated in place, a database from an older version); SQLite
gives its ``-wal``, ``-shm`` and ``-journal`` side files the mode of the database, so
making the database private before SQLite opens it is enough for them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "restrict", "write_private"]

DIR_MODE = 0o700
FILE_MODE = 0o600

#: The side files SQLite writes beside a database.
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create the directory ``path`` (and its parents) and make it 0700; return it.

    For the data directory itself: an existing directory is made 0700 too."""
    directory = Path(path)
    _make_dirs(directory)
    _chmod(directory, DIR_MODE)
    return directory


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make ``path`` a 0600 file in a 0700 directory, creating it empty when absent, and
    bring the SQLite side files already beside it to 0600; return it.

    Call it before a database is opened: what SQLite creates next takes this mode. A
    missing directory is created 0700; an existing one is left as it is (it may be
    shared, like ``/tmp``: :func:`private_dir` is for the data directory)."""
    file = Path(path)
    _make_dirs(file.parent)
    fd = os.open(file, os.O_RDONLY | os.O_CREAT, FILE_MODE)
    try:
        if os.stat(fd).st_mode & 0o777 != FILE_MODE:
            try:
                os.fchmod(fd, FILE_MODE)
            except PermissionError:  # another user's file: only they can change it
                _warn(file, FILE_MODE)
    finally:
        os.close(fd)
    for suffix in _SQLITE_SIDE_FILES:
        restrict(file.with_name(file.name + suffix))
    return file


def restrict(path: str | os.PathLike[str]) -> None:
    """Bring the file ``path`` to 0600 when it exists (a key or a database written by an
    older version); nothing when it does not."""
    with contextlib.suppress(FileNotFoundError):
        _chmod(Path(path), FILE_MODE)


def write_private(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` as a 0600 file, atomically (a temporary file renamed over
    it): a file replaced this way never keeps the mode of the one it replaces."""
    file = Path(path)
    _make_dirs(file.parent)
    fd, temporary = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)  # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, file)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return file


def _make_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each 0700 whatever the umask; the
    ones that exist are left as they are."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        if directory.parent == directory:
            break
        directory = directory.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):
            created.mkdir(mode=DIR_MODE)
            os.chmod(created, DIR_MODE)


def _chmod(path: Path, mode: int) -> None:
    """Set ``mode``; on a file or directory of another user, which only they can change,
    log a warning instead of failing (the files segur creates in it are still 0600)."""
    if path.stat().st_mode & 0o777 != mode:
        try:
            os.chmod(path, mode)
        except PermissionError:
            _warn(path, mode)


def _warn(path: Path, mode: int) -> None:
    import logging

    logging.getLogger("segur.files").warning(
        "cannot make %s private (mode %o): it belongs to another user", path, mode
    )
