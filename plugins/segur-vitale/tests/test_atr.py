"""Card kinds from the ATRs of smartcard_list.txt (reference §1.1 and §2)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_vitale.atr import ATR_CPS_3, ATR_CPS_4, ATR_VITALE_1, ATR_VITALE_2, card_kind, check_atr
from segur_vitale.errors import CardProtocolError

from segur_core.model import CardKind


def _atr(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


@pytest.mark.parametrize("x", list("345789BC"))
def test_vitale_2_family(x):
    assert card_kind(_atr(f"3B 75 13 00 00 4{x} 09 EA 90 00")) is CardKind.VITALE_2


@pytest.mark.parametrize("atr, kind", [
    ("3B 75 13 00 00 45 09 FA 90 00", CardKind.VITALE_2),
    ("3F 65 25 00 22 09 F9 90 00", CardKind.VITALE_1),
    ("3F 65 25 00 2C 09 69 90 00", CardKind.VITALE_1),
    ("3F 65 25 00 52 09 6A 90 00", CardKind.VITALE_1),
    ("3F 65 25 00 A3 09 6A 90 00", CardKind.VITALE_1),
    ("3F 65 25 00 A4 09 6A 90 00", CardKind.VITALE_1),
    ("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00", CardKind.CPS_3),
    ("3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00", CardKind.CPS_3),
    ("3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E", CardKind.CPS_3),
    ("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00", CardKind.CPS_4),
    ("3B 75 13 00 00 46 09 EA 90 00", CardKind.UNKNOWN),  # 6 is not in the set
    ("3F 65 25 00 A5 09 6A 90 00", CardKind.UNKNOWN),
    ("3B 02 14 50", CardKind.UNKNOWN),
])
def test_known_atrs(atr, kind):
    assert card_kind(_atr(atr)) is kind


def test_virtual_card_atrs_are_well_formed():
    for atr in (ATR_VITALE_1, ATR_VITALE_2, ATR_CPS_3, ATR_CPS_4):
        check_atr(atr)
    assert check_atr(ATR_VITALE_2) == bytes.fromhex("4509EA9000")


@pytest.mark.parametrize("atr", ["", "3B", "12 00", "3B 75 13 00", "3B 75 13 00 00 45 09",
                                 "3B 75 13 00 00 45 09 EA 90 00 FF"])
def test_malformed_atrs(atr):
    with pytest.raises(CardProtocolError):
        check_atr(_atr(atr))


@given(st.binary(max_size=40))
def test_atr_functions_are_total(atr):
    assert isinstance(card_kind(atr), CardKind)
    with contextlib.suppress(CardProtocolError):
        check_atr(atr)
