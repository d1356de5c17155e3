"""The counter scenario's first step (order 100): the patient's carte Vitale is read.

The virtual demo card (:data:`~segur_vitale.virtual.cards.DEMO_CARDHOLDER`, a CNDA test
person) is read through pcscd and the vsmartcard vpcd reader when they are there,
otherwise through the in-process transport; the timeline says which. The reading is
dispatched (``on_card_read``: segur-ins looks the identity up in INSi) and left in
``ctx.data["card_reading"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segur_core.errors import CardError
from segur_core.plugin import DemoStep
from segur_vitale.i18n import _
from segur_vitale.reading import dispatch
from segur_vitale.sources import open_virtual
from segur_vitale.virtual.cards import demo_card
from segur_vitale.vitale import read_vitale

if TYPE_CHECKING:
    from segur_core.plugin import DemoContext

__all__ = ["ORDER", "demo_step", "run_demo_step"]

ORDER = 100


def run_demo_step(ctx: DemoContext, *, prefer_pcsc: bool = True) -> None:
    """Read the demo card and dispatch it (see the module docstring)."""
    note = ""
    try:
        with open_virtual(demo_card(), prefer_pcsc=prefer_pcsc) as source:
            card = read_vitale(source.transport)
    except CardError as error:  # the PC/SC path failed (reader busy...): in process
        if not prefer_pcsc:
            raise
        note = _(" (the PC/SC path failed: {error})").format(error=type(error).__name__)
        with open_virtual(demo_card(), prefer_pcsc=False) as source:
            card = read_vitale(source.transport)
    reading = dispatch(ctx.runtime, card)
    ctx.data["card_reading"] = reading
    ctx.data["card_transport"] = source.via
    ctx.record(
        "segur-vitale",
        _(
            "carte Vitale read through {source}{note}: {kind}, {n} beneficiary(ies); "
            "on_card_read dispatched"
        ).format(
            source=source.description, note=note, kind=card.kind.value, n=len(card.beneficiaries)
        ),
        transport=source.via,
        card_kind=card.kind.value,
    )


def demo_step() -> DemoStep:

    return DemoStep(ORDER, _("Carte Vitale reading"), run_demo_step, plugin="vitale")
