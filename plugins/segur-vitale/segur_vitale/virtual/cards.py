"""Ready-made virtual cards, holding CNDA test persons (``ins-insi.md`` §7).

:data:`DEMO_CARDHOLDER` is the first CNDA test person of the reference (ADRUN ZOE), so
that segur-ins's INSi sandbox finds the identity read from the demo card.
"""

from __future__ import annotations

from segur_vitale.atr import ATR_CPS_3, ATR_CPS_4, ATR_VITALE_1, ATR_VITALE_2
from segur_vitale.virtual.card import CardHolder, VirtualCpsCard, VirtualVitaleCard

__all__ = [
    "DEMO_CARDHOLDER",
    "FAMILY_HOLDERS",
    "SECOND_BENEFICIARY",
    "cps_card",
    "demo_card",
    "family_card",
]

#: CNDA test person "ADRUN ZOE", F, born 1975-12-31 in 63220, NIR 2751263220749 key 74.
DEMO_CARDHOLDER = CardHolder(
    birth_name="ADRUN", first_name="ZOE", birth_date="19751231", nir="275126322074974")

#: CNDA test person "ECETINSI PIERRE-ALAIN", M, born 2009-07-14 (INSi: several INS).
SECOND_BENEFICIARY = CardHolder(
    birth_name="ECETINSI", first_name="PIERRE-ALAIN", birth_date="20090714",
    nir="109076322083489")

#: A card with two beneficiaries: the insured person then a second beneficiary.
FAMILY_HOLDERS = (DEMO_CARDHOLDER, SECOND_BENEFICIARY)


def demo_card(*, vitale_1: bool = False) -> VirtualVitaleCard:
    """A carte Vitale with :data:`DEMO_CARDHOLDER` only."""
    return VirtualVitaleCard([DEMO_CARDHOLDER], atr=ATR_VITALE_1 if vitale_1 else ATR_VITALE_2)


def family_card() -> VirtualVitaleCard:
    """A carte Vitale with two beneficiaries (the pharmacist picks one)."""
    return VirtualVitaleCard(FAMILY_HOLDERS)


def cps_card(version: int = 3) -> VirtualCpsCard:
    """A CPS-like card (version 3 or 4 ATR)."""
    return VirtualCpsCard(atr=ATR_CPS_4 if version == 4 else ATR_CPS_3)
