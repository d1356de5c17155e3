"""Virtual smart cards: a carte Vitale and a CPS-like card, in process or behind vpcd."""

from segur_vitale.virtual.card import (
    DF,
    EF,
    CardHolder,
    IsoCard,
    VirtualCpsCard,
    VirtualVitaleCard,
)
from segur_vitale.virtual.cards import (
    DEMO_CARDHOLDER,
    FAMILY_HOLDERS,
    SECOND_BENEFICIARY,
    cps_card,
    demo_card,
    family_card,
)
from segur_vitale.virtual.vpcd import VPCD_PORT, VpcdCard, vpcd_listening

__all__ = [
    "DEMO_CARDHOLDER",
    "DF",
    "EF",
    "FAMILY_HOLDERS",
    "SECOND_BENEFICIARY",
    "VPCD_PORT",
    "CardHolder",
    "IsoCard",
    "VirtualCpsCard",
    "VirtualVitaleCard",
    "VpcdCard",
    "cps_card",
    "demo_card",
    "family_card",
    "vpcd_listening",
]
