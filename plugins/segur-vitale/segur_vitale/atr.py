"""Card kind from the Answer To Reset.

Patterns come from ``LudovicRousseau/pcsc-tools`` ``smartcard_list.txt`` (reference
§1.1 and §2). A pattern is hex with ``..`` for any byte and a bracketed set of hex
digits for one nibble (``4[34589BC7]``). Cards with other ATRs are ``UNKNOWN``; the
reader still tries the Vitale sequence on them (SELECT MF fails on non-Vitale cards).
"""

from __future__ import annotations

import re

from segur_core.model import CardKind
from segur_vitale.errors import CardProtocolError

__all__ = [
    "ATR_CPS_3",
    "ATR_CPS_4",
    "ATR_PATTERNS",
    "ATR_VITALE_1",
    "ATR_VITALE_2",
    "card_kind",
    "check_atr",
    "format_atr",
]

#: (kind, pattern) in the order they are tried.
ATR_PATTERNS: tuple[tuple[CardKind, str], ...] = (
    (CardKind.VITALE_2, "3B 75 13 00 00 4[345789BC] 09 EA 90 00"),
    (CardKind.VITALE_2, "3B 75 13 00 00 45 09 FA 90 00"),
    (CardKind.VITALE_1, "3F 65 25 00 2[2C] 09 [F6]9 90 00"),
    (CardKind.VITALE_1, "3F 65 25 00 52 09 6A 90 00"),
    (CardKind.VITALE_1, "3F 65 25 00 A[34] 09 6A 90 00"),
    (CardKind.CPS_3, "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"),
    (CardKind.CPS_3, "3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00"),
    (CardKind.CPS_3, "3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E"),
    (CardKind.CPS_4, "3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00"),
)

#: One concrete ATR per kind, used by the virtual cards.
ATR_VITALE_2 = bytes.fromhex("3B7513000045 09EA9000".replace(" ", ""))
ATR_VITALE_1 = bytes.fromhex("3F65250022 09F99000".replace(" ", ""))
ATR_CPS_3 = bytes.fromhex("3BAC00402A00122500648000031000 9000".replace(" ", ""))
ATR_CPS_4 = bytes.fromhex("3BDC18FF0000122500648000040100 9000".replace(" ", ""))


def _compile(pattern: str) -> re.Pattern[str]:
    regex = []
    for token in pattern.split():
        nibbles = re.findall(r"\[[0-9A-F]+\]|[0-9A-F.]", token)
        if len(nibbles) != 2 or "".join(nibbles) != token:
            raise ValueError(f"bad ATR pattern token {token!r}")
        regex.extend(nibbles)
    return re.compile("".join(regex))


_COMPILED = tuple((kind, _compile(pattern)) for kind, pattern in ATR_PATTERNS)


def format_atr(atr: bytes) -> str:
    """``3B 75 13 ...`` (upper-case hex, space separated)."""
    return " ".join(f"{byte:02X}" for byte in atr)


def check_atr(atr: bytes) -> bytes:
    """Structural check of an ATR: TS is ``3B`` or ``3F`` and the interface and
    historical bytes announced by T0/TDi are present. Returns the historical bytes."""
    atr = bytes(atr)
    if len(atr) < 2 or atr[0] not in (0x3B, 0x3F):
        raise CardProtocolError("not an ISO 7816-3 ATR (TS must be 3B or 3F)")
    historical = atr[1] & 0x0F
    pos, y = 2, atr[1] >> 4
    tck = False
    while True:
        pos += bin(y).count("1")
        if not y & 0x8:
            break
        if pos > len(atr):
            raise CardProtocolError("ATR cut short in its interface bytes")
        td = atr[pos - 1]
        if td & 0x0F:
            tck = True  # a protocol other than T=0 is offered: TCK is present
        y = td >> 4
    end = pos + historical + (1 if tck else 0)
    if end > len(atr):
        raise CardProtocolError("ATR cut short in its historical bytes")
    if end < len(atr):
        raise CardProtocolError("ATR has trailing bytes")
    return atr[pos:pos + historical]


def card_kind(atr: bytes) -> CardKind:
    """The card kind an ATR announces (``UNKNOWN`` when no pattern matches)."""
    text = bytes(atr).hex().upper()
    for kind, regex in _COMPILED:
        if regex.fullmatch(text):
            return kind
    return CardKind.UNKNOWN
