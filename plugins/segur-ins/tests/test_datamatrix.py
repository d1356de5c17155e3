"""INS datamatrix: payload build/parse and ECC200 rendering."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from segur_ins.datamatrix import (
    GS,
    HEADER,
    DatamatrixError,
    build_payload,
    decode_image,
    parse_payload,
    payload_for,
    render_png,
    render_svg,
)
from segur_ins.oids import INS_NIA_OID, INS_NIR_DEMO_OID, INS_NIR_OID, INS_NIR_TEST_OID

from segur_core.errors import IdentityError, InputError
from segur_core.model import INS, BirthDate, Identity, IdentityStatus, IdentityTraits, Sex

from .test_nir import valid_numbers

CORSE = IdentityTraits("CORSE", ("ANTHONY",), Sex.MALE, BirthDate(1980, 3, 2), "2B020")
CORSE_INS = INS("180032B02040123", INS_NIR_OID)
CORSE_PAYLOAD = (
    "IS010000000000000000000000"
    "S1180032B02040123"
    "S21.2.250.1.213.1.4.8\x1d"
    "S3ANTHONY\x1d"
    "S4CORSE\x1d"
    "S5M"
    "S602-03-1980"
    "S72B020"
)

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
tokens = st.text(LETTERS, min_size=1, max_size=12)


def _joined(separators: list[str]):
    return st.lists(st.tuples(st.sampled_from(separators), tokens), max_size=3).flatmap(
        lambda rest: tokens.map(lambda first: first + "".join(s + t for s, t in rest))
    )


birth_names = st.one_of(st.just("'"), st.just("")).flatmap(
    lambda lead: _joined([" ", "'", "-", "--"]).map(lambda name: lead + name)
)
first_names = _joined(["-", "'"])
birth_dates = st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2199, 12, 31)).flatmap(
    lambda d: st.sampled_from(
        [BirthDate.from_date(d), BirthDate(d.year, d.month), BirthDate(d.year)]
    )
)
birth_places = st.one_of(
    st.none(),
    st.text("0123456789", min_size=5, max_size=5),
    st.builds(lambda c, d: "2" + c + d, st.sampled_from("AB"),
              st.text("0123456789", min_size=3, max_size=3)),
)  # fmt: skip
traits_strategy = st.builds(
    IdentityTraits,
    birth_name=birth_names,
    first_names=st.lists(first_names, min_size=1, max_size=4),
    sex=st.sampled_from([Sex.MALE, Sex.FEMALE]),
    birth_date=birth_dates,
    birth_place=birth_places,
)
oids = st.sampled_from([INS_NIR_OID, INS_NIA_OID, INS_NIR_TEST_OID, INS_NIR_DEMO_OID])
inses = st.builds(INS, valid_numbers, oids)


def _fits(traits: IdentityTraits) -> bool:
    return len(" ".join(traits.first_names)) <= 100 and len(traits.birth_name) <= 100


def test_known_payload() -> None:
    assert HEADER == "IS01" + "0" * 22 and len(HEADER) == 26
    assert build_payload(CORSE_INS, CORSE) == CORSE_PAYLOAD
    assert parse_payload(CORSE_PAYLOAD) == (CORSE_INS, CORSE)


def test_build_normalises_and_checks() -> None:
    raw = IdentityTraits("Corse", ("Anthony",), "M", BirthDate(1980, 3, 2), "2b020")
    assert build_payload(CORSE_INS, raw) == CORSE_PAYLOAD
    with pytest.raises(IdentityError):
        build_payload(CORSE_INS, IdentityTraits("CORSE", ("ANTHONY",), "I", BirthDate(1980)))
    with pytest.raises(IdentityError):
        build_payload(INS("180032B02040124", INS_NIR_OID), CORSE)  # key
    with pytest.raises(IdentityError):
        build_payload(INS("180032B02040123", "1.2.3.4"), CORSE)
    with pytest.raises(IdentityError):
        build_payload(CORSE_INS, IdentityTraits("CORSE", (), "M", BirthDate(1980)))
    with pytest.raises(IdentityError, match="S4"):
        build_payload(CORSE_INS, IdentityTraits("A" * 101, ("B",), "M", BirthDate(1980)))


def test_separator_rule_at_maximum_lengths() -> None:
    """No <GS> after a field at its maximum length (a 20-character OID, 100-character names)."""
    test_ins = INS("180032B02040123", INS_NIR_TEST_OID)
    names = IdentityTraits("N" * 100, ("P" * 100,), "F", BirthDate(2001, 2), None)
    payload = build_payload(test_ins, names)
    assert payload == (
        HEADER + "S1180032B02040123" + "S2" + INS_NIR_TEST_OID
        + "S3" + "P" * 100 + "S4" + "N" * 100 + "S5F" + "S600-02-2001"
    )  # fmt: skip
    assert GS not in payload
    assert parse_payload(payload) == (test_ins, names)
    shorter = IdentityTraits("N" * 99, ("P" * 99,), "F", BirthDate(2001, 2), None)
    assert build_payload(test_ins, shorter).count(GS) == 2


@pytest.mark.parametrize(
    ("payload", "block"),
    [
        ("", ""),
        ("IS02" + "0" * 22, ""),
        (HEADER, "S1"),
        (CORSE_PAYLOAD.replace("S21.2", "S31.2"), "S2"),
        (CORSE_PAYLOAD.replace("ANTHONY\x1d", "ANTHONY"), "S4"),  # missing <GS>
        (CORSE_PAYLOAD.replace("S5M", "S5X"), "S5"),
        (CORSE_PAYLOAD.replace("02-03-1980", "1980-03-02"), "S6"),
        (CORSE_PAYLOAD.replace("02-03-1980", "30-02-1980"), "S6"),
        (CORSE_PAYLOAD + "X", ""),
        (CORSE_PAYLOAD.replace("S4CORSE\x1d", "S4CORSE\x1d\x1d"), "S5"),
        (CORSE_PAYLOAD[:-7] + "S7", "S7"),
    ],
)
def test_malformed_payloads(payload: str, block: str) -> None:
    with pytest.raises(DatamatrixError) as caught:
        parse_payload(payload)
    assert caught.value.block == block


def test_content_errors_are_identity_errors() -> None:
    for bad in (
        CORSE_PAYLOAD.replace("180032B02040123", "180032B02040124"),  # key
        CORSE_PAYLOAD.replace("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.7"),  # OID
        CORSE_PAYLOAD.replace("ANTHONY", "ANTHONY2"),
        CORSE_PAYLOAD.replace("2B020", "2C020"),
    ):
        with pytest.raises(IdentityError):
            parse_payload(bad)


@given(inses, traits_strategy)
def test_parse_is_the_inverse_of_build(ins: INS, traits: IdentityTraits) -> None:
    if not _fits(traits):
        with pytest.raises(IdentityError):
            build_payload(ins, traits)
        return
    payload = build_payload(ins, traits)
    assert payload.startswith(HEADER) and payload.isascii()
    assert parse_payload(payload) == (ins, traits)


@given(inses, traits_strategy, st.data())
def test_a_parsed_payload_has_one_spelling(ins: INS, traits: IdentityTraits, data) -> None:
    """Any mutation either fails with a typed error or is another canonical payload."""
    if not _fits(traits):
        return
    payload = build_payload(ins, traits)
    position = data.draw(st.integers(0, len(payload)))
    char = data.draw(st.sampled_from([GS, "S", "1", "A", " ", "-", "0", "é", "\x00"]))
    action = data.draw(st.sampled_from(["insert", "replace", "delete"]))
    end = position + (0 if action == "insert" else 1)
    mutated = payload[:position] + ("" if action == "delete" else char) + payload[end:]
    try:
        parsed = parse_payload(mutated)
    except InputError:
        return
    assert build_payload(*parsed) == mutated


@given(st.one_of(st.text(max_size=300), st.text(max_size=200).map(lambda t: HEADER + t)))
def test_garbage_gives_typed_errors_only(text: str) -> None:
    try:
        parsed = parse_payload(text)
    except InputError:
        return
    assert build_payload(*parsed) == text


def test_names_must_be_normalised_already() -> None:
    with pytest.raises(DatamatrixError, match="S3/S4"):
        parse_payload(CORSE_PAYLOAD.replace("ANTHONY", "Anthony"))


def test_payload_for_needs_a_qualified_identity() -> None:
    qualified = Identity(CORSE, IdentityStatus.QUALIFIED, CORSE_INS)
    assert payload_for(qualified) == CORSE_PAYLOAD
    recovered = Identity(CORSE, IdentityStatus.RECOVERED, CORSE_INS)
    with pytest.raises(IdentityError, match="qualified"):
        payload_for(recovered)


# -- rendering -----------------------------------------------------------------------------


def test_png_decodes_back_to_the_payload() -> None:
    png = render_png(CORSE_PAYLOAD)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    from PIL import Image

    picture = Image.open(io.BytesIO(png))
    assert picture.width == picture.height  # square symbol
    assert decode_image(png) == CORSE_PAYLOAD


@settings(max_examples=8)
@given(inses, traits_strategy)
def test_rendered_symbols_decode_back(ins: INS, traits: IdentityTraits) -> None:
    if not _fits(traits):
        return
    payload = build_payload(ins, traits)
    assert decode_image(render_png(payload, scale=2)) == payload


_RECT = re.compile(r"M(\d+) (\d+)h(\d+)v(\d+)h-\d+Z")


def test_svg_draws_the_same_symbol() -> None:
    """Rasterise the SVG's rectangles and decode them: the vector form is the same symbol."""
    from PIL import Image, ImageDraw

    svg = render_svg(CORSE_PAYLOAD)
    assert svg.startswith("<?xml") and "<!DOCTYPE" not in svg
    size = re.search(r'<svg width="(\d+)" height="(\d+)" viewBox="0 0 \1 \2"', svg)
    assert size is not None
    width, height = int(size.group(1)), int(size.group(2))
    scale = 4
    picture = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(picture)
    rects = _RECT.findall(svg)
    assert rects
    for x, y, w, h in (map(int, rect) for rect in rects):
        box = (x * scale, y * scale, (x + w) * scale - 1, (y + h) * scale - 1)
        draw.rectangle(box, fill=0)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    assert decode_image(buffer.getvalue()) == CORSE_PAYLOAD


@pytest.mark.parametrize("data", [b"", b"not an image", b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_decode_garbage(data: bytes) -> None:
    with pytest.raises(DatamatrixError):
        decode_image(data)


def test_decode_an_image_without_symbol() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buffer, format="PNG")
    with pytest.raises(DatamatrixError, match="no DataMatrix"):
        decode_image(buffer.getvalue())


def test_render_refuses_non_ascii() -> None:
    with pytest.raises(DatamatrixError):
        render_png("IS01é")
