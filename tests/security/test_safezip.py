"""Safe ZIP reading: traversal, links, bombs, limits, all-or-nothing extraction."""

from __future__ import annotations

import contextlib
import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segur_core.errors import UnsafeZipError
from segur_core.safezip import (
    extract_zip,
    open_zip,
    read_member,
    safe_member_name,
)


def make_zip(members: list[tuple[str | zipfile.ZipInfo, bytes]], *, deflate: bool = True) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_extract_valid_archive(tmp_path: Path) -> None:
    data = make_zip([("IHE_XDM/SUBSET01/DOC0001.XML", b"<doc/>"), ("README.TXT", b"hi")])
    written = extract_zip(data, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "IHE_XDM/SUBSET01/DOC0001.XML",
        "README.TXT",
    ]
    assert (tmp_path / "out/IHE_XDM/SUBSET01/DOC0001.XML").read_bytes() == b"<doc/>"
    assert _tree(tmp_path / "out") == [
        "IHE_XDM",
        "IHE_XDM/SUBSET01",
        "IHE_XDM/SUBSET01/DOC0001.XML",
        "README.TXT",
    ]  # fmt: skip  (no staging folder left)


@pytest.mark.parametrize(
    "name",
    [
        "../evil.txt",
        "a/../../evil.txt",
        "..\\evil.txt",
        "/etc/evil.txt",
        "\\\\server\\share\\evil.txt",
        "C:/evil.txt",
        "c:evil.txt",
        "a/\x07b",
        "report.txt:hidden-stream",
        "NUL",
        "docs/con.txt",
    ],
)
def test_hostile_names_are_refused_and_nothing_written(tmp_path: Path, name: str) -> None:
    data = make_zip([("ok.txt", b"fine"), (name, b"evil")])
    target = tmp_path / "inner" / "target"
    with pytest.raises(UnsafeZipError):
        extract_zip(data, target)
    assert _tree(tmp_path) == ["inner", "inner/target"]


def test_symlink_is_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = make_zip([("ok.txt", b"fine"), (link, b"/etc/passwd")])
    with pytest.raises(UnsafeZipError, match="symbolic link"):
        extract_zip(data, tmp_path / "t")
    assert _tree(tmp_path / "t") == []


def test_special_file_is_refused() -> None:
    fifo = zipfile.ZipInfo("fifo")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    with pytest.raises(UnsafeZipError, match="special file"):
        open_zip(make_zip([(fifo, b"")]))


@pytest.mark.parametrize(
    "names",
    [("a.txt", "a.txt"), ("a.txt", "A.TXT"), ("a/b.txt", "a/./b.txt"), ("a", "a/b"), ("a/b", "a")],
)
def test_duplicates_and_collisions(tmp_path: Path, names: tuple[str, str]) -> None:
    with pytest.warns(UserWarning) if names[0] == names[1] else contextlib.nullcontext():
        data = make_zip([(names[0], b"1"), (names[1], b"2")])
    with pytest.raises(UnsafeZipError, match=r"duplicate|collides"):
        extract_zip(data, tmp_path / "t")
    assert _tree(tmp_path / "t") == []


def test_too_many_entries() -> None:
    data = make_zip([(f"f{i}.txt", b"") for i in range(11)])
    assert len(open_zip(data, max_entries=11).entries) == 11
    with pytest.raises(UnsafeZipError, match="entries"):
        open_zip(data, max_entries=10)


def test_declared_compression_bomb(tmp_path: Path) -> None:
    data = make_zip([("zeros.bin", bytes(20 * 1024 * 1024))])
    assert len(data) < 100_000
    with pytest.raises(UnsafeZipError, match="compression"):
        extract_zip(data, tmp_path / "t")
    assert _tree(tmp_path / "t") == []
    # with a permissive ratio it is fine (the limit is what refuses it)
    assert len(read_member(data, "zeros.bin", max_ratio=10_000, max_size=30_000_000)) == (
        20 * 1024 * 1024
    )


def _falsify_sizes(data: bytes, fake_size: int) -> bytes:
    """Rewrite the declared uncompressed size in local headers and central directory."""
    raw = bytearray(data)
    offset = 0
    while (offset := raw.find(b"PK\x03\x04", offset)) != -1:
        struct.pack_into("<I", raw, offset + 22, fake_size)
        offset += 4
    offset = 0
    while (offset := raw.find(b"PK\x01\x02", offset)) != -1:
        struct.pack_into("<I", raw, offset + 24, fake_size)
        offset += 4
    return bytes(raw)


def test_lying_sizes_are_caught_while_streaming(tmp_path: Path) -> None:
    honest = make_zip([("zeros.bin", bytes(5 * 1024 * 1024)), ("b.txt", b"x")])
    data = _falsify_sizes(honest, 1000)
    with open_zip(data) as archive:  # the directory looks harmless
        assert archive.entries[0].size == 1000
    with pytest.raises(UnsafeZipError):
        extract_zip(data, tmp_path / "t")
    assert _tree(tmp_path / "t") == []


def test_streaming_total_limit(tmp_path: Path) -> None:
    data = make_zip([(f"f{i}.bin", bytes(3000)) for i in range(4)])
    with open_zip(data, max_total_uncompressed=12_000) as archive:
        archive.max_total_uncompressed = 10_000  # as if the directory under-declared
        with pytest.raises(UnsafeZipError, match="in total"):
            for name in archive.names():
                archive.read(name)


def test_total_size_limit(tmp_path: Path) -> None:
    data = make_zip([("a.bin", bytes(6000)), ("b.bin", bytes(6000))])
    with pytest.raises(UnsafeZipError, match="in total"):
        extract_zip(data, tmp_path / "t", max_total_uncompressed=10_000)


def test_read_member_size_cap() -> None:
    data = make_zip([("doc.xml", b"x" * 5000)])
    assert read_member(data, "doc.xml", max_size=5000) == b"x" * 5000
    with pytest.raises(UnsafeZipError, match="larger than"):
        read_member(data, "doc.xml", max_size=4999)
    with pytest.raises(UnsafeZipError, match="no member"):
        read_member(data, "absent.xml")


def test_existing_files_are_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("mine")
    with pytest.raises(UnsafeZipError, match="overwrite"):
        extract_zip(make_zip([("a.txt", b"theirs")]), tmp_path)
    assert (tmp_path / "a.txt").read_text() == "mine"


def test_not_a_zip(tmp_path: Path) -> None:
    with pytest.raises(UnsafeZipError, match="not a readable ZIP"):
        open_zip(b"definitely not a zip")
    with pytest.raises(UnsafeZipError, match="not found"):
        open_zip(tmp_path / "absent.zip")


def test_corrupt_member(tmp_path: Path) -> None:
    data = bytearray(make_zip([("a.txt", b"hello world" * 100)], deflate=False))
    data[40:45] = b"XXXXX"  # inside the stored data: CRC mismatch
    with pytest.raises(UnsafeZipError, match="corrupt"):
        extract_zip(bytes(data), tmp_path / "t")
    assert _tree(tmp_path / "t") == []


def test_from_path(tmp_path: Path) -> None:
    archive = tmp_path / "in.zip"
    archive.write_bytes(make_zip([("d/e.txt", b"ok")]))
    with open_zip(archive) as opened:
        assert opened.names() == ["d/e.txt"]
        assert opened.read("d/e.txt") == b"ok"


@given(st.text(max_size=40))
def test_member_names_never_escape(name: str) -> None:
    try:
        path = safe_member_name(name)
    except UnsafeZipError:
        return
    parts = path.split("/")
    assert path and not path.startswith("/")
    assert ".." not in parts and "." not in parts and "" not in parts
    assert "\\" not in path and ":" not in path


@given(st.lists(st.text(alphabet="ab./\\:C", min_size=1, max_size=8), min_size=1, max_size=5))
def test_extraction_stays_inside_the_target(names: list[str]) -> None:
    import tempfile
    import warnings

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        target = root / "target"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about duplicate names
            data = make_zip([(name, b"x") for name in names])
        try:
            written = extract_zip(data, target)
        except UnsafeZipError:
            assert _tree(root) == ["target"]
            return
        for path in written:
            assert path.resolve().is_relative_to(target.resolve())
        assert all(
            p.resolve().is_relative_to(target.resolve()) for p in root.rglob("*") if p != target
        )
        assert not any(p.name.startswith(".segur-unzip-") for p in target.iterdir())


def test_entry_count_is_refused_before_the_directory_is_parsed(monkeypatch) -> None:
    data = make_zip([(f"f{i}.txt", b"") for i in range(50)])

    def must_not_parse(*args, **kwargs):
        raise AssertionError("zipfile parsed the directory of an oversized archive")

    monkeypatch.setattr(zipfile, "ZipFile", must_not_parse)
    with pytest.raises(UnsafeZipError, match="50 entries"):
        open_zip(data, max_entries=10)


def test_lying_entry_count_is_caught_by_directory_size() -> None:
    data = bytearray(make_zip([(f"file-{i:04d}.txt", b"") for i in range(200)]))
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, eocd + 8, 1, 1)  # claim a single entry
    with pytest.raises(UnsafeZipError):
        open_zip(bytes(data), max_entries=2)


def test_zip64_end_record_is_honoured(monkeypatch) -> None:
    """Archives with more than 65535 entries announce their count in the ZIP64 record."""
    with monkeypatch.context() as patch:
        patch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)  # force the ZIP64 end records
        data = bytearray(make_zip([(f"f{i}.txt", b"x") for i in range(20)]))
    eocd = data.rfind(b"PK\x05\x06")
    assert data.rfind(b"PK\x06\x06") != -1
    struct.pack_into("<HH", data, eocd + 8, 0xFFFF, 0xFFFF)  # as for a real ZIP64 count
    with pytest.raises(UnsafeZipError, match="20 entries"):
        open_zip(bytes(data), max_entries=10)
    with open_zip(bytes(data), max_entries=30) as opened:
        assert len(opened.names()) == 20


def test_an_empty_archive_opens_with_no_member() -> None:
    """An archive of zero entries (just the end-of-directory record) is a valid, empty
    archive: it opens, with nothing in it (it once raised a bare ValueError)."""
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    with open_zip(empty.getvalue()) as archive:
        assert archive.names() == []
