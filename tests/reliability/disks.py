"""Real storage faults for tests: a small tmpfs that can be filled up or remounted
read-only, and a page of a database file overwritten.

Mounting needs root (CI runs the suite as root); elsewhere the tests that need it skip
with the reason. A tmpfs answers ``ENOSPC`` and ``EROFS`` exactly as a full or read-only
disk does, down to SQLite's own error codes, which an ``RLIMIT_FSIZE`` (``EFBIG``) or
SQLite's ``max_page_count`` would only imitate.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["Disk", "damage_page", "small_disk"]


class Disk:
    """A mounted tmpfs of a few MiB at :attr:`path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / ".filler"

    def fill(self) -> int:
        """Write a filler file until the disk is full; return the bytes written."""
        written = 0
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
                chunk = b"\0" * size
                while True:
                    try:
                        written += os.write(fd, chunk)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
        finally:
            os.close(fd)
        return written

    def free(self) -> None:
        """Delete the filler file."""
        self._filler.unlink(missing_ok=True)

    def read_only(self, flag: bool = True) -> None:
        """Remount the disk read-only (or read-write again)."""
        _mount("-o", f"remount,{'ro' if flag else 'rw'}", str(self.path))


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=True)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the disk-fault tests must run in CI: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def small_disk(where: Path, size: str = "8m") -> Iterator[Disk]:
    """A tmpfs of ``size`` mounted on ``where`` for the duration (skips without root,
    fails in CI, where the suite runs as root and these tests must run)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        _unavailable("mounting a small tmpfs needs root (CI runs as root)")
    try:
        _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where))
    except (OSError, subprocess.CalledProcessError) as exc:
        _unavailable(f"cannot mount a tmpfs here: {getattr(exc, 'stderr', exc)}")
    try:
        yield Disk(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def damage_page(path: Path, page: int, page_size: int = 4096) -> None:
    """Overwrite page ``page`` (1-based) of a SQLite file with garbage."""
    with path.open("r+b") as file:
        file.seek((page - 1) * page_size)
        file.write(bytes((n * 37 + 11) % 256 for n in range(page_size)))
