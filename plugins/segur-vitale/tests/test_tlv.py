"""BER-TLV parser: known encodings, malformed input, round trips (hypothesis)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_vitale.errors import TLVError
from segur_vitale.tlv import TLV, encode, encode_length, parse


def test_nested_beneficiary_template():
    data = encode(0x65, [encode(0x80, b"ADRUN"), encode(0x81, b"ZOE"), encode(0x82, b"19751231")])
    (holder,) = parse(data)
    assert holder.tag == 0x65 and holder.constructed
    assert [c.tag for c in holder.children] == [0x80, 0x81, 0x82]
    assert holder.find(0x81).value == b"ZOE"
    assert holder.find(0x93) is None
    assert [n.tag for n in holder.walk()] == [0x65, 0x80, 0x81, 0x82]


def test_two_byte_tags_and_long_lengths():
    value = bytes(range(200))
    data = encode(0x7F21, [encode(0x5F37, value), encode(0x5F38, b"\x01")])
    (cert,) = parse(data)
    assert cert.tag == 0x7F21 and cert.constructed
    assert cert.find(0x5F37).value == value
    assert data[2:4] == b"\x81\xd0"  # 200 + 4 + 4 bytes: long form on one byte


def test_padding_is_skipped():
    data = b"\x00\xff" + encode(0x80, b"A") + b"\xff\xff\x00" + encode(0x81, b"B") + b"\xff"
    assert [(o.tag, o.value) for o in parse(data)] == [(0x80, b"A"), (0x81, b"B")]


@pytest.mark.parametrize(
    "data, where",
    [
        (b"\x80", "length missing"),
        (b"\x80\x05ABC", "overruns"),
        (b"\x80\x80", "indefinite"),
        (b"\x80\x85\x00\x00\x00\x00\x01", "too long"),
        (b"\x80\x82\x01", "cut short"),
        (b"\x5f", "tag cut short"),
        (b"\x5f\x81\x82\x83\x01", "longer than 3"),
        (b"\x65\x03\x80\x05A", "overruns"),  # a child overruns its template
    ],
)
def test_malformed_input_raises_tlv_error(data, where):
    with pytest.raises(TLVError, match=where):
        parse(data)


def test_depth_limit():
    data = encode(0x80, b"X")
    for _ in range(12):
        data = encode(0x65, [data])
    with pytest.raises(TLVError, match="deeper"):
        parse(data)
    assert parse(data, max_depth=20)


def test_encode_length_forms():
    assert encode_length(0x7F) == b"\x7f"
    assert encode_length(0x80) == b"\x81\x80"
    assert encode_length(0x1234) == b"\x82\x12\x34"


# -- properties --------------------------------------------------------------------------

primitive_tags = st.sampled_from([0x80, 0x81, 0x82, 0x90, 0x93, 0x5F37, 0x5F38, 0x04, 0x9F21])
constructed_tags = st.sampled_from([0x65, 0x66, 0x7F21, 0x70, 0x61])

leaves = st.builds(lambda t, v: TLV(t, v), primitive_tags, st.binary(max_size=300))


def _node(tag, children):
    value = b"".join(encode(c.tag, c.value) for c in children)
    return TLV(tag, value, tuple(children))


trees = st.recursive(leaves, lambda kids: st.builds(_node, constructed_tags,
                                                    st.lists(kids, max_size=4)), max_leaves=12)


@given(st.lists(trees, max_size=5))
def test_round_trip(objects):
    data = b"".join(encode(o.tag, o.value) for o in objects)
    assert list(parse(data)) == objects


@given(st.binary(max_size=400))
def test_arbitrary_bytes_parse_or_raise_tlv_error(data):
    try:
        result = parse(data)
    except TLVError:
        return
    assert all(isinstance(o, TLV) for o in result)


@given(st.lists(trees, min_size=1, max_size=3), st.data())
def test_truncation_never_crashes(objects, draw):
    data = b"".join(encode(o.tag, o.value) for o in objects)
    cut = draw.draw(st.integers(0, len(data)))
    with contextlib.suppress(TLVError):
        parse(data[:cut])
