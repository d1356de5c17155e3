"""Command/response APDUs and the T=0 rules of exchange()."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_vitale import apdu
from segur_vitale.apdu import Command, Response, exchange
from segur_vitale.errors import CardProtocolError, StatusWordError, TruncatedResponseError


def test_reference_sequence_bytes():
    assert apdu.SELECT_MF.to_bytes() == bytes.fromhex("00A40000023F00")
    assert apdu.READ_BINARY_SFI2.to_bytes() == bytes.fromhex("00B0820000")
    assert apdu.select_aid(apdu.AID_VITALE).to_bytes() == bytes.fromhex(
        "00A404000BD250000002564954414C45")
    assert apdu.get_response(0x1C).to_bytes() == bytes.fromhex("00C000001C")
    assert bytes.fromhex("D25000000 24D465F564954414C45".replace(" ", "")) == apdu.AID_VITALE_MF


def test_response_parse_and_check():
    response = Response.parse(b"\x01\x02\x90\x00")
    assert response.data == b"\x01\x02" and response.ok
    with pytest.raises(TruncatedResponseError):
        Response.parse(b"\x90")
    with pytest.raises(StatusWordError) as info:
        Response.parse(b"\x6a\x82").check("SELECT")
    assert info.value.sw == 0x6A82 and "6A82" in str(info.value)


def test_command_validation():
    with pytest.raises(ValueError):
        Command(0, 0xB0, 0, 0, le=257)
    with pytest.raises(ValueError):
        Command(0, 0xB0, 0, 0, b"x" * 256)
    with pytest.raises(ValueError):
        Command(0, 0x1B0, 0, 0)


@pytest.mark.parametrize("raw", [b"", b"\x00\xa4\x00", b"\x00\xa4\x00\x00\x05\x3f",
                                 b"\x00\xa4\x00\x00\x00\x00\x02"])
def test_malformed_commands(raw):
    with pytest.raises(CardProtocolError):
        Command.parse(raw)


class Scripted:
    """A transport answering from a script and recording what it was sent."""

    name = "scripted"

    def __init__(self, *answers: str):
        self.answers = [bytes.fromhex(a) for a in answers]
        self.sent: list[bytes] = []

    def atr(self) -> bytes:
        return b""

    def transmit(self, data: bytes) -> bytes:
        self.sent.append(bytes(data))
        return self.answers.pop(0)

    def close(self) -> None:
        pass


def test_61xx_get_response_chain():
    t = Scripted("6103", "AABBCC6102", "DDEE9000")
    response = exchange(t, apdu.SELECT_MF)
    assert response.data == bytes.fromhex("AABBCCDDEE") and response.ok
    assert t.sent[1:] == [bytes.fromhex("00C0000003"), bytes.fromhex("00C0000002")]


def test_6cxx_resends_with_exact_le():
    t = Scripted("6C2A", "00" * 0x2A + "9000")
    response = exchange(t, apdu.READ_BINARY_SFI2)
    assert len(response.data) == 0x2A
    assert t.sent == [bytes.fromhex("00B0820000"), bytes.fromhex("00B082002A")]


def test_6c_then_61():
    t = Scripted("6C05", "6102", "01029000")
    assert exchange(t, apdu.READ_BINARY_SFI2).data == b"\x01\x02"


def test_6c_twice_is_a_protocol_error():
    with pytest.raises(CardProtocolError, match="twice"):
        exchange(Scripted("6C05", "6C04"), apdu.READ_BINARY_SFI2)


def test_endless_chaining_is_bounded():
    t = Scripted(*(["6101"] + ["006101"] * 100))
    with pytest.raises(CardProtocolError, match="GET RESPONSE"):
        exchange(t, apdu.SELECT_MF, max_chain=8)
    assert len(t.sent) == 9


def test_truncated_answer_mid_chain():
    with pytest.raises(TruncatedResponseError):
        exchange(Scripted("6104", "90"), apdu.SELECT_MF)


def test_sw_meaning():
    assert apdu.sw_meaning(0x6A82) == "file or application not found"
    assert "256" in apdu.sw_meaning(0x6100)
    assert apdu.sw_meaning(0x1234) == "unknown status"


# -- properties --------------------------------------------------------------------------

commands = st.builds(
    Command,
    cla=st.integers(0, 255), ins=st.integers(0, 255), p1=st.integers(0, 255),
    p2=st.integers(0, 255), data=st.binary(max_size=255),
    le=st.none() | st.integers(1, 256),
)


@given(commands)
def test_command_round_trip(command):
    assert Command.parse(command.to_bytes()) == command


@given(st.binary(max_size=300))
def test_command_parse_total(raw):
    try:
        command = Command.parse(raw)
    except CardProtocolError:
        return
    assert command.to_bytes() == raw or raw[4:5] == b"\x00"  # Le 00 and 256 are one value


@given(st.binary(max_size=300))
def test_response_parse_total(raw):
    try:
        response = Response.parse(raw)
    except TruncatedResponseError:
        assert len(raw) < 2
        return
    assert response.to_bytes() == raw
