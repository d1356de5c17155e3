"""Malformed archives: every one is refused with ``UnsafeZipError``, or read whole.

A seeded mutation loop over valid archives (flipped bytes, truncations, unknown or
unsupported compression methods, huge and deep names, nested archives, bad CRCs,
overlapping entries, garbage directory fields) plus hypothesis on raw bytes. Any other
exception (``zlib.error``, ``NotImplementedError``, ``OSError``, ``RecursionError``...) fails.
"""

from __future__ import annotations

import collections
import io
import random
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segur_core.errors import UnsafeZipError
from segur_core.safezip import extract_zip, open_zip

#: How many mutated archives the loop tries (the figure in docs/reliability.md).
FUZZ_ARCHIVES = 2_400
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"


def make_zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _bases() -> list[bytes]:
    text = b"<ClinicalDocument>" + b"<entry>lorem ipsum</entry>" * 200 + b"</ClinicalDocument>"
    return [
        make_zip([("IHE_XDM/SUBSET01/DOC0001.XML", text), ("README.TXT", b"hello")]),
        make_zip([("METADATA.XML", text)], zipfile.ZIP_STORED),
        make_zip([("a.txt", text)], zipfile.ZIP_BZIP2),
        make_zip([("a.txt", text)], zipfile.ZIP_LZMA),
        make_zip([("inner.zip", make_zip([("IHE_XDM/a.xml", text)])), ("b.txt", b"b")]),
        make_zip([("d/", b""), ("d/e.txt", text)]),
    ]


def _offsets(data: bytearray, signature: bytes) -> list[int]:
    found, at = [], data.find(signature)
    while at >= 0:
        found.append(at)
        at = data.find(signature, at + 1)
    return found


def _flip_bytes(rng: random.Random, data: bytearray) -> bytearray:
    for _ in range(rng.randint(1, 12)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return data


def _truncate(rng: random.Random, data: bytearray) -> bytearray:
    return data[: rng.randrange(len(data))]


def _compression_method(rng: random.Random, data: bytearray) -> bytearray:
    method = rng.choice([1, 2, 6, 9, 10, 13, 14, 18, 19, 95, 96, 97, 98, 99, 0xFFFF])
    for signature, field in ((_LOCAL, 8), (_CENTRAL, 10)):
        for at in _offsets(data, signature):
            if at + field + 2 <= len(data):
                struct.pack_into("<H", data, at + field, method)
    return data


def _huge_name(rng: random.Random, data: bytearray) -> bytearray:
    name = rng.choice(
        [
            "n" * rng.choice([256, 300, 5_000, 65_000]),
            "a/" * rng.choice([65, 1_500, 20_000]) + "f",
            ("b" * 200 + "/") * 30 + "f",
            "é" * 200,
        ]
    )
    return bytearray(make_zip([(name, b"x"), ("ok.txt", b"ok")]))


def _nested(rng: random.Random, data: bytearray) -> bytearray:
    inner = bytes(_MUTATIONS[rng.randrange(len(_MUTATIONS) - 1)](rng, bytearray(data)))
    for _ in range(rng.randint(1, 4)):
        inner = make_zip([("nested.zip", inner)], rng.choice([0, 8]))
    return bytearray(inner)


def _bad_crc(rng: random.Random, data: bytearray) -> bytearray:
    for at in _offsets(data, _CENTRAL) + _offsets(data, _LOCAL):
        field = 16 if data[at : at + 4] == _CENTRAL else 14
        if at + field < len(data):
            data[at + field] ^= 1 << rng.randrange(8)
    return data


def _overlap(rng: random.Random, data: bytearray) -> bytearray:
    central = _offsets(data, _CENTRAL)
    if len(central) >= 2:  # two entries sharing one local header and stream
        data[central[1] + 42 : central[1] + 46] = data[central[0] + 42 : central[0] + 46]
    elif central:
        struct.pack_into("<L", data, central[0] + 42, rng.randrange(len(data)))
    return data


def _directory_field(rng: random.Random, data: bytearray) -> bytearray:
    for at in _offsets(data, _CENTRAL):
        if rng.random() < 0.7:
            offset = rng.randrange(4, 46)
            if at + offset < len(data):
                data[at + offset] = rng.randrange(256)
    end = data.rfind(b"PK\x05\x06")
    if end >= 0 and rng.random() < 0.3:
        data[end + rng.randrange(4, 22)] = rng.randrange(256)
    return data


_MUTATIONS = [
    _flip_bytes,
    _truncate,
    _compression_method,
    _huge_name,
    _bad_crc,
    _overlap,
    _directory_field,
    _nested,  # last: it applies one of the others inside
]


def consume(data: bytes, target: Path, depth: int = 0) -> None:
    """Read every member, open nested archives, then extract: what a receiver does."""
    with open_zip(data) as archive:
        for name in archive.names():
            content = archive.read(name)
            if name.endswith(".zip") and depth < 6:
                consume(content, target / f"nested{depth}", depth + 1)
    extract_zip(data, target / "out")


def test_mutated_archives_raise_only_the_typed_error(tmp_path: Path) -> None:
    rng = random.Random(20_260_213)
    bases = _bases()
    outcomes: collections.Counter[str] = collections.Counter()
    escaped: list[str] = []
    for number in range(FUZZ_ARCHIVES):
        mutation = _MUTATIONS[number % len(_MUTATIONS)]
        data = bytes(mutation(rng, bytearray(rng.choice(bases))))
        target = tmp_path / str(number)
        try:
            consume(data, target)
            outcomes["read"] += 1
        except UnsafeZipError:
            outcomes["refused"] += 1
            out = target / "out"
            assert not out.exists() or not any(out.iterdir()), "a refused archive left files"
        except Exception as error:  # the assertion below names them all
            escaped.append(f"{mutation.__name__}: {type(error).__name__}: {error!s:.120}")
    assert not escaped, f"{len(escaped)} archives escaped the typed error:\n" + "\n".join(
        escaped[:20]
    )
    assert outcomes["read"] + outcomes["refused"] == FUZZ_ARCHIVES
    assert outcomes["refused"] > FUZZ_ARCHIVES // 2  # the mutations really break archives


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_bases()),
    st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 255)), max_size=16),
    st.integers(0, 2**16),
)
def test_hypothesis_byte_edits_raise_only_the_typed_error(
    base: bytes, edits: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(base)
    for position, value in edits:
        data[position % len(data)] = value
    data = data[: max(1, len(data) - cut % len(data))]
    try:
        with open_zip(bytes(data)) as archive:
            for name in archive.names():
                archive.read(name)
    except UnsafeZipError:
        pass


def test_corrupt_deflate_stream_is_typed() -> None:
    data = bytearray(make_zip([("a.txt", b"abcdefgh" * 4000)]))
    start = data.find(b"a.txt") + len("a.txt")
    for at in range(start + 20, start + 60):
        data[at] ^= 0x55
    with pytest.raises(UnsafeZipError, match="corrupt"), open_zip(bytes(data)) as archive:
        archive.read("a.txt")


def test_unsupported_compression_method_is_typed() -> None:
    data = bytearray(make_zip([("a.txt", b"x" * 100)]))
    for signature, field in ((_LOCAL, 8), (_CENTRAL, 10)):
        for at in _offsets(data, signature):
            struct.pack_into("<H", data, at + field, 99)  # AES (WinZip), unsupported
    with pytest.raises(UnsafeZipError), open_zip(bytes(data)) as archive:
        archive.read("a.txt")


def test_unsupported_zip_version_is_typed() -> None:
    data = bytearray(make_zip([("a.txt", b"x")]))
    at = data.find(_CENTRAL)
    data[at + 6] = 138  # "needs version 13.8 to extract"
    with pytest.raises(UnsafeZipError):
        open_zip(bytes(data))


@pytest.mark.parametrize(
    "name",
    ["n" * 300, "a/" * 1_500 + "f", ("b" * 200 + "/") * 30 + "f"],
    ids=["component-over-255-bytes", "1500-levels-deep", "path-over-4096-bytes"],
)
def test_huge_and_deep_names_are_refused_before_extraction(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeZipError, match="too long or too deep"):
        extract_zip(make_zip([(name, b"x")]), tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_overlapping_entries_are_refused() -> None:
    """Two directory entries pointing at one stream: the non-recursive ZIP bomb."""
    data = bytearray(make_zip([("a.txt", b"a" * 5000), ("b.txt", b"b" * 5000)]))
    central = _offsets(data, _CENTRAL)
    data[central[1] + 42 : central[1] + 46] = data[central[0] + 42 : central[0] + 46]
    with pytest.raises(UnsafeZipError, match="overlap"):
        open_zip(bytes(data))


def test_valid_archives_still_open() -> None:
    for base in _bases():
        with open_zip(base) as archive:
            assert all(archive.read(name) is not None for name in archive.names())
