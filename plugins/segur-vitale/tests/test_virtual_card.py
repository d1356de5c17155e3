"""The virtual cards answer like a T=0 ISO 7816-4 carte Vitale / CPS."""

from __future__ import annotations

from segur_vitale.apdu import AID_VITALE, Response, get_response, read_binary_sfi, select_aid
from segur_vitale.tlv import parse
from segur_vitale.virtual import DEMO_CARDHOLDER, cps_card, demo_card, family_card


def send(card, hex_apdu: str) -> Response:
    return Response.parse(card.process(bytes.fromhex(hex_apdu)))


def powered(card):
    card.power_on()
    return card


def test_select_mf_answers_61xx_then_fcp_by_get_response():
    card = powered(demo_card())
    r = send(card, "00A40000023F00")
    assert r.sw1 == 0x61 and not r.data
    fcp = Response.parse(card.process(get_response(r.sw2).to_bytes()))
    assert fcp.ok and parse(fcp.data)[0].tag == 0x62
    # the pending answer is consumed
    assert send(card, "00C0000001").sw == 0x6985


def test_get_response_with_wrong_le_answers_6c():
    card = powered(demo_card())
    r = send(card, "00A40000023F00")
    assert send(card, "00C00000FF").sw == 0x6C00 | r.sw2
    partial = send(card, "00C0000002")
    assert partial.sw1 == 0x61 and partial.sw2 == r.sw2 - 2


def test_read_binary_le_00_answers_6c_exact_length():
    card = powered(demo_card())
    send(card, "00A40000023F00")
    r = send(card, "00B0820000")
    assert r.sw1 == 0x6C
    data = send(card, f"00B08200{r.sw2:02X}")
    assert data.ok and len(data.data) == r.sw2
    (holder,) = parse(data.data)
    assert holder.find(0x80).value == DEMO_CARDHOLDER.birth_name.encode()
    # a shorter Le gives the beginning of the file
    assert send(card, "00B0820004").data == data.data[:4]
    # reading by offset in the current EF
    assert send(card, "00B0000204").data == data.data[2:6]


def test_vitale_application_holds_the_nirs():
    card = powered(family_card())
    assert send(card, select_aid(AID_VITALE).to_bytes().hex()).sw1 == 0x61
    r = send(card, "00B0820000")
    full = Response.parse(card.process(read_binary_sfi(2, le=r.sw2).to_bytes()))
    nirs = [t.find(0x93).value.decode() for t in parse(full.data)]
    assert nirs == [h.nir for h in card.holders]


def test_errors():
    card = powered(demo_card())
    assert send(card, "00B0820000").sw == 0x6986  # nothing selected
    assert send(card, "80A40000023F00").sw == 0x6E00  # class
    assert send(card, "00CA000000").sw == 0x6D00  # instruction
    assert send(card, "00A40000021234").sw == 0x6A82  # file
    assert send(card, "00A404000BD250000002564954414C46").sw == 0x6A82  # AID
    assert send(card, "00A4").sw == 0x6700  # malformed
    send(card, "00A40000023F00")
    assert send(card, "00B0850000").sw == 0x6A82  # no SFI 5
    assert send(card, "00B0E20000").sw == 0x6A86  # bad P1
    assert send(card, "00B08200FF").sw1 == 0x6C
    card.power_off()
    assert send(card, "00A40000023F00").sw == 0x6F00


def test_select_with_no_response_requested():
    card = powered(demo_card())
    assert send(card, "00A4000C023F00").sw == 0x9000


def test_cps_refuses_select_mf():
    card = powered(cps_card())
    assert send(card, "00A40000023F00").sw == 0x6A82
    assert cps_card(4).atr != cps_card(3).atr
