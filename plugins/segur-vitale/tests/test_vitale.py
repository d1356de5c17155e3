"""Reading a carte Vitale in process: the sequence, the data model and every bad input."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_vitale.errors import (
    CardDataError,
    CardProtocolError,
    CardRemovedError,
    StatusWordError,
    TLVError,
    TruncatedResponseError,
    UnsupportedCardError,
)
from segur_vitale.tlv import encode
from segur_vitale.transport import DirectTransport
from segur_vitale.virtual import (
    DEMO_CARDHOLDER,
    SECOND_BENEFICIARY,
    CardHolder,
    VirtualVitaleCard,
    cps_card,
    demo_card,
    family_card,
)
from segur_vitale.vitale import parse_birth_date, parse_holders, parse_nirs, read_vitale

from segur_core.errors import CardError
from segur_core.model import BirthDate, CardKind, ReadingSource, Sex


def test_reads_the_demo_card_with_the_reference_sequence():
    transport = DirectTransport(demo_card())
    card = read_vitale(transport)
    assert card.kind is CardKind.VITALE_2
    (b,) = card.beneficiaries
    assert (b.birth_name, b.first_name, str(b.birth_date), b.nir) == (
        "ADRUN", "ZOE", "1975-12-31", DEMO_CARDHOLDER.nir)
    # the commands of reference §1.3, each followed by its T=0 completion
    sent = [apdu.hex().upper() for apdu in transport.sent]
    assert sent[0] == "00A40000023F00" and sent[1].startswith("00C00000")
    assert sent[2] == "00B0820000" and sent[3].startswith("00B08200")
    assert sent[4] == "00A404000BD250000002564954414C45" and sent[5].startswith("00C00000")
    assert sent[6] == "00B0820000" and sent[7].startswith("00B08200")
    assert len(sent) == 8


def test_reading_model():
    card = read_vitale(DirectTransport(family_card()))
    first, second = card.readings()
    assert first.source is ReadingSource.VITALE_CARD and not first.high_trust
    assert first.traits.sex is Sex.FEMALE and second.traits.sex is Sex.MALE
    assert second.beneficiary_rank == 2 and second.nir == SECOND_BENEFICIARY.nir
    assert second.insured_nir == DEMO_CARDHOLDER.nir
    assert second.traits.first_names == ("PIERRE-ALAIN",)
    assert second.reader == "virtual card (in-process)"
    with pytest.raises(CardDataError):
        card.reading(3)
    assert "ADRUN" not in repr(card) and "ADRUN" not in repr(card.beneficiaries[0])


def test_vitale_1_and_padded_files():
    card = read_vitale(DirectTransport(demo_card(vitale_1=True)))
    assert card.kind is CardKind.VITALE_1
    padded = VirtualVitaleCard([DEMO_CARDHOLDER], padding=20)
    assert read_vitale(DirectTransport(padded)).beneficiaries[0].nir == DEMO_CARDHOLDER.nir


def test_unknown_atr_answering_the_sequence_is_read():
    card = VirtualVitaleCard([DEMO_CARDHOLDER], atr=bytes.fromhex("3B021450"))
    assert read_vitale(DirectTransport(card)).kind is CardKind.VITALE_2


def test_cps_is_not_a_vitale():
    with pytest.raises(UnsupportedCardError) as info:
        read_vitale(DirectTransport(cps_card(4)))
    assert info.value.kind is CardKind.CPS_4


def test_unknown_card_refusing_select_mf():
    card = cps_card()
    card.atr = bytes.fromhex("3B021450")
    with pytest.raises(UnsupportedCardError) as info:
        read_vitale(DirectTransport(card))
    assert info.value.kind is CardKind.UNKNOWN


# -- bad input ---------------------------------------------------------------------------

def _holder(**fields):
    return encode(0x65, [encode(tag, value) for tag, value in fields.items()])


@pytest.mark.parametrize("holders_data, nir_data, error", [
    (b"\x65\x05\x80\x09ADRUN", None, TLVError),
    (None, b"\x65\x10\x93", TLVError),
    (encode(0x66, [encode(0x80, b"20240101")]), None, CardDataError),  # no 65 template
    (encode(0x65, [encode(0x81, b"ZOE"), encode(0x82, b"19751231")]), None, CardDataError),
    (encode(0x65, [encode(0x80, b"A"), encode(0x81, b"ZOE")]), None, CardDataError),
    (encode(0x65, [encode(0x80, b"A"), encode(0x81, b"Z"), encode(0x82, b"1975123")]), None,
     CardDataError),
    (encode(0x65, [encode(0x80, b"   "), encode(0x81, b"Z"), encode(0x82, b"19751231")]), None,
     CardDataError),
    (None, encode(0x65, [encode(0x93, b"12345")]), CardDataError),
    (None, encode(0x65, [encode(0x93, b"27512632207497X")]), CardDataError),
    (None, encode(0x65, [encode(0x93, DEMO_CARDHOLDER.nir.encode())]) * 2, CardDataError),
])
def test_damaged_cards_raise_typed_errors(holders_data, nir_data, error):
    card = VirtualVitaleCard([DEMO_CARDHOLDER], holders_data=holders_data, nir_data=nir_data)
    with pytest.raises(error):
        read_vitale(DirectTransport(card))


def test_nir_absent_is_allowed():
    card = VirtualVitaleCard([DEMO_CARDHOLDER], nir_data=encode(0x65, [encode(0x90, b"FR")]))
    reading = read_vitale(DirectTransport(card)).reading()
    assert reading.nir is None and reading.traits.sex is Sex.UNKNOWN


@pytest.mark.parametrize("text, expected", [
    (b"19751231", BirthDate(1975, 12, 31)),
    (b"19800235", BirthDate(1980, 2, 0)),  # date lunaire: unknown day
    (b"19804012", BirthDate(1980, 0, 0)),  # month out of range: unknown month
    (b"19800000", BirthDate(1980, 0, 0)),
])
def test_birth_dates(text, expected):
    assert parse_birth_date(text) == expected


@pytest.mark.parametrize("text", [b"1975-12-31", b"17001231", b"", b"abcdefgh"])
def test_bad_birth_dates(text):
    with pytest.raises(CardDataError):
        parse_birth_date(text)


@pytest.mark.parametrize("pull_after", range(8))
def test_card_pulled_out_at_every_step(pull_after):
    transport = DirectTransport(family_card())
    transport.pull_out_after(pull_after)
    with pytest.raises(CardRemovedError):
        read_vitale(transport)


class Tampering:
    """Wraps a transport and rewrites the n-th answer."""

    name = "tampering"

    def __init__(self, inner, index, answer):
        self.inner, self.index, self.answer, self.count = inner, index, answer, 0

    def atr(self):
        return self.inner.atr()

    def transmit(self, data):
        real = self.inner.transmit(data)
        self.count += 1
        return self.answer if self.count - 1 == self.index else real

    def close(self):
        pass


@pytest.mark.parametrize("index, answer, error", [
    (0, b"\x90", TruncatedResponseError),
    (1, b"", TruncatedResponseError),
    (3, b"\x65\x03\x80\x01A\x90\x00", CardDataError),  # shorter file: 65 without 81/82
    (3, b"\x65\x10\x80\x90\x00", TLVError),  # truncated READ BINARY data
    (4, b"\x6a\x82", StatusWordError),  # SELECT AID refused
    (6, b"\x69\x82", StatusWordError),  # READ BINARY: security status
    (6, b"\x6c\x05", CardProtocolError),  # then asked for another Le again
])
def test_wrong_answers(index, answer, error):
    transport = Tampering(DirectTransport(family_card()), index, answer)
    if index == 6 and answer == b"\x6c\x05":
        transport = Tampering(Tampering(DirectTransport(family_card()), 6, answer), 7, answer)
    with pytest.raises(error):
        read_vitale(transport)


def test_holder_repr_hides_identity():
    assert "ADRUN" not in repr(DEMO_CARDHOLDER)


@given(st.binary(max_size=200))
def test_file_parsers_only_raise_card_errors(data):
    for parser in (parse_holders, parse_nirs):
        with contextlib.suppress(CardError):
            parser(data)


holders = st.builds(
    CardHolder,
    birth_name=st.text(st.characters(min_codepoint=65, max_codepoint=90), min_size=1,
                       max_size=40),
    first_name=st.text(st.characters(min_codepoint=65, max_codepoint=90), min_size=1,
                       max_size=40),
    birth_date=st.dates(dt.date(1800, 1, 1), dt.date(2199, 12, 31)).map(
        lambda d: d.strftime("%Y%m%d")),
    nir=st.from_regex(r"\A[12][0-9]{5}[0-9AB][0-9]{8}\Z"),
)


@given(st.lists(holders, min_size=1, max_size=4))
def test_any_card_content_reads_back(people):
    card = read_vitale(DirectTransport(VirtualVitaleCard(people)))
    assert [(b.birth_name, b.first_name, b.nir) for b in card.beneficiaries] == [
        (p.birth_name, p.first_name, p.nir) for p in people]
    assert [b.birth_date.to_date().strftime("%Y%m%d") for b in card.beneficiaries] == [
        p.birth_date for p in people]


_T0_ANSWERS = st.sampled_from([b"\x61\x00", b"\x61\x05", b"\x61\xff", b"\x6c\x00", b"\x6c\x05",
                               b"\x90\x00", b"\x6a\x82", b"\x62\x82"])


@given(st.dictionaries(st.integers(0, 9), st.binary(max_size=40) | _T0_ANSWERS, max_size=3))
def test_any_wrong_answers_give_a_card_or_a_card_error(answers):
    """Any answers of the card replaced by arbitrary bytes or status words, at any step:
    the read completes or raises a CardError, never anything else."""

    class Replacing(Tampering):
        def transmit(self, data):
            real = self.inner.transmit(data)
            self.count += 1
            return answers.get(self.count - 1, real)

    with contextlib.suppress(CardError):
        card = read_vitale(Replacing(DirectTransport(family_card()), None, None))
        assert card.beneficiaries
