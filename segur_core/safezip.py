"""Safe reading of ZIP archives that come from outside (IHE XDM mails, exports, updates).

:func:`open_zip` checks the whole central directory before anything is read: too many
entries, names escaping the target (``../``, absolute paths, drive letters, UNC paths),
duplicate or colliding names (case-insensitively, file versus folder), symbolic links
and other special files, encrypted entries, declared sizes and compression ratios.
Reading then counts the bytes really decompressed, so an archive lying about its sizes
is stopped as soon as it exceeds a limit.

:func:`extract_zip` writes into a fresh temporary folder *inside* the target and only
moves the result into place once every member was extracted: on any failure nothing is
left behind, and nothing is ever written outside the target.
"""

from __future__ import annotations

import io
import lzma
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import attrs

from segur_core.errors import UnsafeZipError

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_RATIO",
    "DEFAULT_MAX_TOTAL",
    "SafeZip",
    "ZipEntry",
    "extract_zip",
    "open_zip",
    "read_member",
    "safe_member_name",
]

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_TOTAL = 512 * 1024 * 1024
DEFAULT_MAX_RATIO = 200
#: Members smaller than this are not ratio-checked (tiny files compress well, harmlessly).
RATIO_THRESHOLD = 1024 * 1024
_CHUNK = 64 * 1024
#: Longest member path component, in UTF-8 bytes (NAME_MAX on every common file system).
MAX_NAME_BYTES = 255
#: Longest member path and deepest nesting: far beyond any real export, and short enough
#: that the path still fits under PATH_MAX once joined to the target folder.
MAX_PATH_BYTES = 1024
MAX_DEPTH = 64
#: What zipfile and its decompressors raise on a damaged member or directory.
_CORRUPT = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{stem}{n}" for stem in ("COM", "LPT") for n in range(1, 10)]
)

ZipSource = Path | str | bytes | bytearray | BinaryIO


@attrs.frozen
class ZipEntry:
    """A checked archive member: its original name, the safe relative path it maps to,
    and its declared sizes."""

    name: str
    path: str
    size: int
    compressed_size: int
    is_dir: bool


def safe_member_name(name: str) -> str:
    """The safe relative POSIX path of a member name, or ``UnsafeZipError``.

    Backslashes count as separators; ``.`` and empty components are dropped; colons
    (drive letters, NTFS streams) and Windows device names (``CON``, ``NUL.txt``...) are
    refused so that an archive extracts the same way on every system.
    """
    if not name or "\x00" in name:
        raise UnsafeZipError("archive member with an empty or NUL-containing name")
    if any(ord(ch) < 32 for ch in name):
        raise UnsafeZipError(f"archive member name with control characters: {name!r}")
    normalised = name.replace("\\", "/")
    if normalised.startswith("/"):
        raise UnsafeZipError(f"archive member with an absolute path: {name!r}")
    if _DRIVE.match(normalised):
        raise UnsafeZipError(f"archive member with a drive letter: {name!r}")
    if ":" in normalised:  # drive-relative paths and NTFS alternate data streams
        raise UnsafeZipError(f"archive member name with a colon: {name!r}")
    parts = [part for part in normalised.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise UnsafeZipError(f"archive member escaping the target folder: {name!r}")
    if any(part.split(".")[0].upper() in _WINDOWS_DEVICES for part in parts):
        raise UnsafeZipError(f"archive member named like a Windows device: {name!r}")
    if not parts:
        raise UnsafeZipError(f"archive member without a usable name: {name!r}")
    path = "/".join(parts)
    if (
        len(parts) > MAX_DEPTH
        or len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES
        or any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in parts)
    ):
        raise UnsafeZipError(
            f"archive member name too long or too deep: {name[:80]!r}... "
            f"({len(name)} characters; limits {MAX_NAME_BYTES} bytes per component, "
            f"{MAX_PATH_BYTES} bytes and {MAX_DEPTH} levels in all)"
        )
    return path


def _file_type(info: zipfile.ZipInfo) -> int:
    return stat.S_IFMT(info.external_attr >> 16)


class SafeZip:
    """An archive whose directory passed the checks; read members with size caps.

    Use as a context manager (or call :meth:`close`).
    """

    def __init__(
        self,
        archive: zipfile.ZipFile,
        entries: list[ZipEntry],
        infos: dict[str, zipfile.ZipInfo],
        *,
        max_total_uncompressed: int,
        max_ratio: float,
    ) -> None:
        self._archive = archive
        self.entries = entries
        self._infos = infos
        self.max_total_uncompressed = max_total_uncompressed
        self.max_ratio = max_ratio
        self._read_total = 0

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._archive.close()

    def names(self) -> list[str]:
        """The safe paths of the file members (folders excluded)."""
        return [entry.path for entry in self.entries if not entry.is_dir]

    def _info(self, name: str) -> zipfile.ZipInfo:
        key = safe_member_name(name)
        try:
            return self._infos[key]
        except KeyError:
            raise UnsafeZipError(f"no member {name!r} in the archive") from None

    def iter_chunks(self, name: str, *, max_size: int | None = None) -> Iterator[bytes]:
        """Stream a member's decompressed bytes, enforcing the real size limits."""
        info = self._info(name)
        if info.is_dir():
            raise UnsafeZipError(f"archive member {name!r} is a folder")
        limit = self.max_total_uncompressed if max_size is None else max_size
        produced = 0
        try:
            with self._archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    produced += len(chunk)
                    self._read_total += len(chunk)
                    if produced > limit:
                        raise UnsafeZipError(
                            f"archive member {name!r} is larger than {limit} bytes"
                        )
                    if self._read_total > self.max_total_uncompressed:
                        raise UnsafeZipError(
                            f"archive expands beyond {self.max_total_uncompressed} bytes in total"
                        )
                    if produced > RATIO_THRESHOLD and produced > self.max_ratio * max(
                        info.compress_size, 1
                    ):
                        raise UnsafeZipError(
                            f"archive member {name!r} expands more than {self.max_ratio} "
                            "times (compression bomb)"
                        )
                    yield chunk
        except UnsafeZipError:
            raise
        except _CORRUPT as error:
            raise UnsafeZipError(f"archive member {name!r} is corrupt: {error}") from None

    def read(self, name: str, *, max_size: int | None = None) -> bytes:
        """A member's content, refused beyond ``max_size`` decompressed bytes."""
        return b"".join(self.iter_chunks(name, max_size=max_size))


def open_zip(
    source: ZipSource,
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_total_uncompressed: int = DEFAULT_MAX_TOTAL,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> SafeZip:
    """Open and check an archive (path, bytes or binary file object)."""
    if isinstance(source, bytes | bytearray):
        handle: Path | str | BinaryIO = io.BytesIO(bytes(source))
    else:
        handle = source
    try:
        _precheck_directory(handle, max_entries)
        archive = zipfile.ZipFile(handle)
    except FileNotFoundError:
        raise UnsafeZipError(f"archive not found: {_describe(source)}") from None
    except UnsafeZipError:
        raise
    except _CORRUPT as error:
        raise UnsafeZipError(f"not a readable ZIP archive: {error}") from None
    try:
        entries, infos = _check_directory(
            archive.infolist(),
            max_entries=max_entries,
            max_total=max_total_uncompressed,
            max_ratio=max_ratio,
        )
        _check_no_overlap(archive)
    except BaseException:
        archive.close()
        raise
    return SafeZip(
        archive,
        entries,
        infos,
        max_total_uncompressed=max_total_uncompressed,
        max_ratio=max_ratio,
    )


_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
#: Central directory bytes allowed per entry (46-byte header plus name/extra/comment).
_DIRECTORY_BYTES_PER_ENTRY = 4096


def _precheck_directory(handle: Path | str | BinaryIO, max_entries: int) -> None:
    """Read the end-of-central-directory record before ``zipfile`` parses the directory,
    so that an archive announcing millions of entries is refused without building them."""
    if isinstance(handle, str | Path):
        with open(handle, "rb") as stream:
            _precheck_stream(stream, max_entries)
        return
    position = handle.tell()
    try:
        _precheck_stream(handle, max_entries)
    finally:
        handle.seek(position)


def _precheck_stream(stream: BinaryIO, max_entries: int) -> None:
    size = stream.seek(0, os.SEEK_END)
    tail_size = min(size, _EOCD.size + 65535 + _ZIP64_LOCATOR.size)
    stream.seek(size - tail_size)
    tail = stream.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return  # not a ZIP: zipfile gives the error
    _sig, _disk, _cd_disk, _here, entries, directory_size, offset, _comment = _EOCD.unpack_from(
        tail, at
    )
    if 0xFFFF in (entries,) or 0xFFFFFFFF in (directory_size, offset):
        locator = at - _ZIP64_LOCATOR.size
        if locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
            _sig, _disk, zip64_offset, _disks = _ZIP64_LOCATOR.unpack_from(tail, locator)
            stream.seek(zip64_offset)
            record = stream.read(_ZIP64_EOCD.size)
            if len(record) == _ZIP64_EOCD.size and record[:4] == b"PK\x06\x06":
                fields = _ZIP64_EOCD.unpack(record)
                entries, directory_size = fields[7], fields[8]
    if entries > max_entries:
        raise UnsafeZipError(f"archive has {entries} entries, limit {max_entries}")
    if directory_size > max_entries * _DIRECTORY_BYTES_PER_ENTRY:
        raise UnsafeZipError(
            f"archive directory of {directory_size} bytes is too large for {max_entries} entries"
        )


def _check_directory(
    infos: list[zipfile.ZipInfo], *, max_entries: int, max_total: int, max_ratio: float
) -> tuple[list[ZipEntry], dict[str, zipfile.ZipInfo]]:
    if len(infos) > max_entries:
        raise UnsafeZipError(f"archive has {len(infos)} entries, limit {max_entries}")
    entries: list[ZipEntry] = []
    by_path: dict[str, zipfile.ZipInfo] = {}
    seen: dict[str, str] = {}  # casefolded path -> original name
    folders: set[str] = set()
    files: set[str] = set()
    total = 0
    for info in infos:
        path = safe_member_name(info.filename)
        kind = _file_type(info)
        if kind == stat.S_IFLNK:
            raise UnsafeZipError(f"archive member is a symbolic link: {info.filename!r}")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeZipError(f"archive member is a special file: {info.filename!r}")
        if info.flag_bits & 0x1:
            raise UnsafeZipError(f"archive member is encrypted: {info.filename!r}")
        key = path.casefold()
        if key in seen:
            raise UnsafeZipError(
                f"archive has duplicate members {seen[key]!r} and {info.filename!r}"
            )
        seen[key] = info.filename
        is_dir = info.is_dir() or kind == stat.S_IFDIR
        parents = {p.as_posix().casefold() for p in PurePosixPath(path).parents} - {"."}
        if parents & files or (not is_dir and key in folders):
            raise UnsafeZipError(f"archive member {info.filename!r} collides with a file")
        folders |= parents
        (folders if is_dir else files).add(key)
        if info.file_size < 0 or info.compress_size < 0:
            raise UnsafeZipError(f"archive member with invalid sizes: {info.filename!r}")
        total += info.file_size
        if total > max_total:
            raise UnsafeZipError(f"archive declares more than {max_total} bytes in total")
        if info.file_size > RATIO_THRESHOLD and info.file_size > max_ratio * max(
            info.compress_size, 1
        ):
            raise UnsafeZipError(
                f"archive member {info.filename!r} declares a compression ratio above "
                f"{max_ratio} (compression bomb)"
            )
        entries.append(ZipEntry(info.filename, path, info.file_size, info.compress_size, is_dir))
        by_path[path] = info
    return entries, by_path


def _check_no_overlap(archive: zipfile.ZipFile) -> None:
    """Refuse members whose data overlap another's (or the directory): the trick of
    non-recursive ZIP bombs, where many entries share one compressed stream.

    Each member takes at least its 30-byte local header, its name and its compressed
    data; a valid archive always leaves that much room before the next member."""
    spans = []
    for info in archive.infolist():
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        try:
            name_size = len(info.orig_filename.encode(encoding))
        except UnicodeEncodeError:
            name_size = 0
        spans.append((info.header_offset, info.header_offset + 30 + name_size + info.compress_size))
    spans.sort()
    end_of_data = getattr(archive, "start_dir", None)
    for (start, end), following in zip(spans, [*spans[1:], None][: len(spans)], strict=True):
        limit = following[0] if following else end_of_data
        if start < 0 or (limit is not None and end > limit):
            raise UnsafeZipError("archive members overlap (a ZIP bomb technique) or are truncated")


def read_member(
    source: ZipSource,
    name: str,
    *,
    max_size: int = 50 * 1024 * 1024,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> bytes:
    """Read one member of an archive, refused beyond ``max_size`` decompressed bytes."""
    with open_zip(
        source, max_entries=max_entries, max_total_uncompressed=2**62, max_ratio=max_ratio
    ) as archive:
        return archive.read(name, max_size=max_size)


def extract_zip(
    source: ZipSource,
    target_dir: Path | str,
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_total_uncompressed: int = DEFAULT_MAX_TOTAL,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> list[Path]:
    """Extract every member under ``target_dir``; returns the files written.

    All or nothing: members go to a temporary folder inside ``target_dir`` first, and are
    moved into place only once all were extracted. Existing files are never overwritten.
    """
    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    target = target.resolve()
    with open_zip(
        source,
        max_entries=max_entries,
        max_total_uncompressed=max_total_uncompressed,
        max_ratio=max_ratio,
    ) as archive:
        tops = {PurePosixPath(entry.path).parts[0] for entry in archive.entries}
        clashes = sorted(top for top in tops if _exists(target / top))
        if clashes:
            raise UnsafeZipError(
                f"extracting would overwrite existing entries in {target}: {clashes[:5]}",
                hint="extract into an empty folder",
            )
        staging = Path(tempfile.mkdtemp(prefix=".segur-unzip-", dir=target))
        try:
            written: list[Path] = []
            for entry in archive.entries:
                destination = staging.joinpath(*PurePosixPath(entry.path).parts)
                if not destination.resolve().is_relative_to(staging):  # belt and braces
                    raise UnsafeZipError(f"archive member escaping the target: {entry.name!r}")
                if entry.is_dir:
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                with os.fdopen(os.open(destination, flags, 0o644), "wb") as output:
                    for chunk in archive.iter_chunks(entry.path):
                        output.write(chunk)
                written.append(target.joinpath(*PurePosixPath(entry.path).parts))
            moved: list[Path] = []
            try:
                for top in sorted(tops):
                    os.replace(staging / top, target / top)
                    moved.append(target / top)
            except OSError as error:
                for path in moved:  # all or nothing: take back what was moved
                    if path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        path.unlink(missing_ok=True)
                raise UnsafeZipError(
                    f"cannot move the extracted files into place: {error}"
                ) from error
        except OSError as error:  # a path the file system refuses (too long, invalid...)
            raise UnsafeZipError(
                f"cannot extract the archive into {target}: {error.strerror or error}"
            ) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return written


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError as error:
        raise UnsafeZipError(f"cannot extract the archive into {path.parent}: {error}") from None


def _describe(source: object) -> str:
    """A source for a message: its path, never the bytes of an in-memory archive."""
    return "<in-memory archive>" if isinstance(source, bytes | bytearray) else str(source)
