"""What an export keeps per patient, kept on disk until the end rather than in memory.

A massive export has one manifest entry (name, size, SHA-256) and one ZIP central
directory entry per patient, read back once at the end, when the manifest, the
signature and the top archive's central directory are written. :class:`Spool` holds
them in an unnamed temporary file (0600, gone when closed); :func:`spooled_zip` is a
:class:`zipfile.ZipFile` whose ``ZipInfo`` entries (about 0.4 kB each) wait there.
"""

from __future__ import annotations

import pickle
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

__all__ = ["Spool", "spooled_zip"]

T = TypeVar("T")


class Spool(Generic[T]):
    """Values appended to a temporary file in ``directory``, read back in order (as
    often as needed) and counted. Only this process writes and reads the file."""

    def __init__(self, directory: Path | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed by close()
        self._count = 0
        self._at_end = True  # appends follow each other without a seek (each would flush)

    def append(self, value: T) -> None:
        if not self._at_end:
            self._file.seek(0, 2)
            self._at_end = True
        pickle.dump(value, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[T]:
        self._file.flush()
        self._file.seek(0)
        self._at_end = False
        for _ in range(self._count):
            yield pickle.load(self._file)  # written by append, in this process's own file

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Infos(list):  # type: ignore[type-arg]  # what zipfile appends to, counts and reads
    """``ZipFile.filelist`` in a :class:`Spool`."""

    def __init__(self, spool: Spool[zipfile.ZipInfo]) -> None:
        super().__init__()
        self._spool = spool

    def append(self, info: zipfile.ZipInfo) -> None:
        self._spool.append(info)

    def __len__(self) -> int:
        return len(self._spool)

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        return iter(self._spool)


class _Unindexed(dict):  # type: ignore[type-arg]
    """``ZipFile.NameToInfo`` that keeps nothing: it serves reading, and a warning for a
    name written twice, which the export never does."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


@contextmanager
def spooled_zip(out: IO[bytes], directory: Path | None = None) -> Iterator[zipfile.ZipFile]:
    """A :class:`zipfile.ZipFile` writing to ``out`` (ZIP64 allowed) whose central
    directory entries wait in a :class:`Spool` in ``directory`` until it closes."""
    with (
        Spool[zipfile.ZipInfo](directory) as spool,
        zipfile.ZipFile(out, "w", allowZip64=True) as archive,
    ):
        archive.filelist = _Infos(spool)
        archive.NameToInfo = _Unindexed()
        yield archive
