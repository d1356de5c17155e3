"""The INS datamatrix: payload (ANS "Format datamatrix INS") and ECC200 rendering.

Payload layout: the 26-character header ``IS01`` + 22 zeros, then blocks introduced
by a 2-character identifier, in this order:

====  ================================  =======================
S1    INS matricule                      fixed, 15
S2    INS OID                            variable, 19-20
S3    birth first names, space-separated variable, 1-100
S4    birth name                         variable, 1-100
S5    sex ``M``/``F``                    fixed, 1
S6    birth date ``JJ-MM-AAAA``          fixed, 10
S7    birthplace COG (optional)          fixed, 5
====  ================================  =======================

A variable-length field is followed by ``<GS>`` (0x1D) unless it is at its maximum
length or is the last field. :func:`parse_payload` is the exact inverse of
:func:`build_payload` and refuses anything else (including a ``<GS>`` where none is
due), so a payload has one spelling. A first name containing a space comes back as
separate first names: the datamatrix carries the list as one space-separated string.

Rendering uses zxing-cpp (wheels with the encoder and a decoder), square symbols,
with a PNG through Pillow and an SVG for PDFs.
"""

from __future__ import annotations

import io
import re

import attrs

from segur_core.errors import IdentityError, InputError
from segur_core.model import INS, BirthDate, Identity, IdentityTraits, Sex
from segur_ins.oids import ins_from
from segur_ins.status import shareable_ins
from segur_ins.traits import check_birth_place, normalise_traits

__all__ = [
    "GS",
    "HEADER",
    "DatamatrixError",
    "build_payload",
    "decode_image",
    "parse_payload",
    "payload_for",
    "render_png",
    "render_svg",
]

HEADER = "IS01" + "0" * 22
GS = "\x1d"


class DatamatrixError(InputError):
    """An INS datamatrix payload is malformed; ``block`` names where (``S3``...)."""

    def __init__(self, message: str, *, block: str = "", hint: str | None = None) -> None:
        super().__init__(f"INS datamatrix {block}: {message}" if block else message, hint=hint)
        self.block = block


@attrs.frozen
class _Field:
    id: str
    min: int
    max: int

    @property
    def variable(self) -> bool:
        return self.min != self.max


_FIELDS = (
    _Field("S1", 15, 15),
    _Field("S2", 19, 20),
    _Field("S3", 1, 100),
    _Field("S4", 1, 100),
    _Field("S5", 1, 1),
    _Field("S6", 10, 10),
    _Field("S7", 5, 5),
)
_OPTIONAL = frozenset({"S7"})


def _date_text(date: BirthDate) -> str:
    return f"{date.day:02d}-{date.month:02d}-{date.year:04d}"


_DATE = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")


def build_payload(ins: INS, traits: IdentityTraits) -> str:
    """The datamatrix payload for an INS and its strict traits (normalised first).

    Raises :class:`IdentityError` when a value cannot be carried (unknown OID, bad
    matricule, sex not M/F, names over 100 characters, RNIV lexical rules).
    """
    ins = ins_from(ins.matricule, ins.oid)
    traits = normalise_traits(traits)
    if traits.sex not in (Sex.MALE, Sex.FEMALE):
        raise IdentityError("the INS datamatrix carries sex M or F only")
    if not traits.first_names:
        raise IdentityError("the INS datamatrix needs at least one birth first name")
    values = {
        "S1": ins.matricule,
        "S2": ins.oid,
        "S3": " ".join(traits.first_names),
        "S4": traits.birth_name,
        "S5": str(traits.sex),
        "S6": _date_text(traits.birth_date),
    }
    if traits.birth_place:
        values["S7"] = traits.birth_place
    parts = [HEADER]
    present = [field for field in _FIELDS if field.id in values]
    for index, field in enumerate(present):
        value = values[field.id]
        if not field.min <= len(value) <= field.max:
            raise IdentityError(
                f"INS datamatrix {field.id} takes {field.min} to {field.max} characters, "
                f"not {len(value)}"
            )
        last = index == len(present) - 1
        parts.append(field.id + value)
        if field.variable and len(value) < field.max and not last:
            parts.append(GS)
    return "".join(parts)


def payload_for(identity: Identity) -> str:
    """The payload for a QUAL identity; refuses any other (only QUAL exposes its INS)."""
    ins = shareable_ins(identity)
    if ins is None:
        raise IdentityError(
            f"the INS datamatrix is only printed for a qualified identity, not {identity.status}"
        )
    return build_payload(ins, identity.traits)


def _read_blocks(payload: str) -> dict[str, str]:
    if not isinstance(payload, str):
        raise DatamatrixError("the payload must be text")
    if not payload.startswith(HEADER):
        raise DatamatrixError(
            "does not start with the IS01 header", hint="is this an INS datamatrix?"
        )
    position = len(HEADER)
    values: dict[str, str] = {}
    for field in _FIELDS:
        if position == len(payload) and field.id in _OPTIONAL:
            break
        if payload[position : position + 2] != field.id:
            raise DatamatrixError(f"block {field.id} expected", block=field.id)
        position += 2
        if field.variable:
            window = payload[position : position + field.max + 1]
            end = window.find(GS)
            length = end if 0 <= end <= field.max else min(len(window), field.max)
        else:
            length = field.max
        value = payload[position : position + length]
        if not field.min <= len(value) <= field.max or GS in value:
            raise DatamatrixError(f"takes {field.min} to {field.max} characters", block=field.id)
        position += length
        at_end = position == len(payload)
        if field.variable and length < field.max and not at_end:
            if payload[position] != GS:
                raise DatamatrixError("a separator <GS> is missing", block=field.id)
            position += 1
            if position == len(payload):
                raise DatamatrixError("a separator <GS> ends the payload", block=field.id)
        values[field.id] = value
    if position != len(payload):
        raise DatamatrixError("unexpected data after the last block")
    return values


def parse_payload(payload: str) -> tuple[INS, IdentityTraits]:
    """Read a payload back into an INS and strict traits (inverse of :func:`build_payload`).

    Raises :class:`DatamatrixError` for a malformed structure and
    :class:`~segur_core.errors.IdentityError` for a value breaking the INS rules (both
    are :class:`~segur_core.errors.InputError`).
    """
    values = _read_blocks(payload)
    ins = ins_from(values["S1"], values["S2"])
    if values["S5"] not in ("M", "F"):
        raise DatamatrixError("the sex must be M or F", block="S5")
    date = _DATE.match(values["S6"])
    if not date:
        raise DatamatrixError("the birth date must be JJ-MM-AAAA", block="S6")
    day, month, year = (int(part) for part in date.groups())
    try:
        birth_date = BirthDate(year, month, day)
    except (ValueError, TypeError):
        raise DatamatrixError("the birth date does not exist", block="S6") from None
    place = values.get("S7")
    traits = IdentityTraits(
        birth_name=values["S4"],
        first_names=tuple(values["S3"].split(" ")),
        sex=Sex(values["S5"]),
        birth_date=birth_date,
        birth_place=check_birth_place(place, "S7") if place is not None else None,
    )
    normalised = normalise_traits(traits)
    if normalised != traits:
        raise DatamatrixError(
            "names must already follow the RNIV lexical rules (uppercase A-Z...)",
            block="S3/S4",
        )
    return ins, traits


# -- rendering -----------------------------------------------------------------------------


def _symbol(payload: str):  # -> zxingcpp.Barcode
    import zxingcpp

    if not isinstance(payload, str) or not payload.isascii():
        raise DatamatrixError("the payload must be ASCII text")
    return zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.DataMatrix, force_square=True)


def render_png(payload: str, *, scale: int = 4) -> bytes:
    """The ECC200 square DataMatrix of ``payload`` as PNG bytes (quiet zone included)."""
    from PIL import Image

    image = _symbol(payload).to_image(scale=scale)
    height, width = image.shape
    picture = Image.frombuffer("L", (width, height), bytes(memoryview(image)), "raw", "L", 0, 1)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def render_svg(payload: str, *, scale: int = 1) -> str:
    """The same symbol as an SVG document (vector, for PDFs): no DOCTYPE, with a viewBox."""
    svg = _DOCTYPE.sub("", _symbol(payload).to_svg(scale=scale), count=1)
    return _SVG_SIZE.sub(r'\g<0> viewBox="0 0 \1 \2"', svg, count=1)


_DOCTYPE = re.compile(r"<!DOCTYPE[^>]*>\s*")
_SVG_SIZE = re.compile(r'<svg width="(\d+)" height="(\d+)"')


def decode_image(png: bytes) -> str:
    """Decode the DataMatrix in a PNG (or any Pillow-readable image) back to its payload."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        picture = Image.open(io.BytesIO(png))
        picture.load()
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DatamatrixError("not a readable image") from error
    found = zxingcpp.read_barcode(picture, formats=zxingcpp.BarcodeFormat.DataMatrix)
    if found is None or not found.valid:
        raise DatamatrixError("no DataMatrix found in the image")
    return found.bytes.decode("latin-1")
