"""BER-TLV (ISO 7816-4 / X.690 subset) as found in carte Vitale files.

Tags are kept as integers of their bytes (``0x65``, ``0x7F21``); a tag whose first byte
has bit 6 set (``0x20``) is constructed and its value is parsed into ``children``.
``00`` and ``FF`` bytes between objects are padding (ISO 7816-4 §5.2.2) and skipped.
Anything else that does not parse raises :class:`~segur_vitale.errors.TLVError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from segur_vitale.errors import TLVError

__all__ = ["TLV", "encode", "encode_length", "encode_tag", "parse"]

MAX_DEPTH = 8
_PADDING = (0x00, 0xFF)


def _is_constructed(tag: int) -> bool:
    first = tag
    while first > 0xFF:
        first >>= 8
    return bool(first & 0x20)


@attrs.frozen
class TLV:
    """One data object: its tag, raw value and (when constructed) parsed children."""

    tag: int
    value: bytes = attrs.field(repr=lambda v: f"<{len(v)} bytes>")
    children: tuple[TLV, ...] = ()

    @property
    def constructed(self) -> bool:
        return _is_constructed(self.tag)

    def find(self, tag: int) -> TLV | None:
        """The first direct child with ``tag``, or ``None``."""
        return next((child for child in self.children if child.tag == tag), None)

    def find_all(self, tag: int) -> list[TLV]:
        """Every direct child with ``tag``, in order."""
        return [child for child in self.children if child.tag == tag]

    def walk(self) -> Iterator[TLV]:
        """This object and all its descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


def parse(data: bytes, *, max_depth: int = MAX_DEPTH) -> tuple[TLV, ...]:
    """Parse a sequence of BER-TLV objects; constructed values are parsed recursively."""
    return tuple(_parse(bytes(data), 0, len(data), 0, max_depth))


def _parse(data: bytes, start: int, end: int, depth: int, max_depth: int) -> list[TLV]:
    if depth > max_depth:
        raise TLVError(f"TLV nested deeper than {max_depth} levels", offset=start)
    out: list[TLV] = []
    pos = start
    while pos < end:
        if data[pos] in _PADDING:
            pos += 1
            continue
        tag_start = pos
        tag = data[pos]
        pos += 1
        if tag & 0x1F == 0x1F:  # multi-byte tag: continuation bytes have bit 8 set
            while True:
                if pos >= end:
                    raise TLVError("tag cut short", offset=tag_start)
                if pos - tag_start >= 3:
                    raise TLVError("tag longer than 3 bytes", offset=tag_start)
                byte = data[pos]
                tag = (tag << 8) | byte
                pos += 1
                if not byte & 0x80:
                    break
        if pos >= end:
            raise TLVError("length missing", offset=pos)
        length = data[pos]
        pos += 1
        if length == 0x80:
            raise TLVError("indefinite length is not allowed", offset=pos - 1)
        if length > 0x80:
            count = length & 0x7F
            if count > 3:
                raise TLVError(f"length on {count} bytes is too long", offset=pos - 1)
            if pos + count > end:
                raise TLVError("length cut short", offset=pos - 1)
            length = int.from_bytes(data[pos:pos + count], "big")
            pos += count
        if pos + length > end:
            raise TLVError(f"value of {length} bytes overruns its container", offset=pos)
        value = data[pos:pos + length]
        children: tuple[TLV, ...] = ()
        if _is_constructed(tag):
            children = tuple(_parse(data, pos, pos + length, depth + 1, max_depth))
        out.append(TLV(tag, value, children))
        pos += length
    return out


def encode_tag(tag: int) -> bytes:
    """The bytes of a tag integer (``0x7F21`` → ``7F 21``)."""
    if tag <= 0:
        raise ValueError("a tag is a positive integer")
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big")


def encode_length(length: int) -> bytes:
    """Definite-length encoding (short form under 128, else ``81``/``82``/``83``)."""
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    if size > 3:
        raise ValueError("TLV value too long")
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def encode(tag: int, value: bytes | Iterable[bytes]) -> bytes:
    """One TLV object; ``value`` is raw bytes or the already-encoded children."""
    body = value if isinstance(value, bytes | bytearray) else b"".join(value)
    return encode_tag(tag) + encode_length(len(body)) + bytes(body)
