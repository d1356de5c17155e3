"""Where to read a card from: a PC/SC reader, the virtual card behind vpcd, or in process.

Used by the CLI and the demo step, so both choose the same way and say which.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import attrs

from segur_vitale import pcsc
from segur_vitale.errors import CardAbsentError, ReaderError
from segur_vitale.transport import CardTransport, DirectTransport, PcscTransport, VirtualCardLike

__all__ = ["VPCD_READER", "CardSource", "open_pcsc", "open_virtual"]

#: The reader name vpcd's first slot shows in pcscd (port 35963).
VPCD_READER = "Virtual PCD 00 00"


@attrs.frozen
class CardSource:
    """An open transport and a sentence saying how the card is reached."""

    transport: CardTransport
    via: str  # "pcsc", "pcsc+vpcd" or "in-process"
    description: str


@contextlib.contextmanager
def open_pcsc(reader_filter: str | None = None) -> Iterator[CardSource]:
    """The first reader (matching ``reader_filter``) that holds a card."""
    with pcsc.session() as context:
        readers = pcsc.readers_with_card(reader_filter, context=context)
        if not readers:
            raise CardAbsentError("no card in any reader" + (
                f" matching {reader_filter!r}" if reader_filter else ""),
                hint="insert the carte Vitale, or list readers with 'segur vitale readers'")
        transport = PcscTransport(readers[0], context=context)
        try:
            yield CardSource(transport, "pcsc", f"PC/SC reader {readers[0]!r}")
        finally:
            transport.close()


def _vpcd_transport(card: VirtualCardLike, insert_timeout: float):
    """(transport, vpcd card) through pcscd + vpcd, or ``None`` when unavailable."""
    if not pcsc.pyscard_installed():
        return None
    from segur_vitale.virtual.vpcd import VpcdCard

    vpcd_card = None
    try:
        if VPCD_READER not in pcsc.list_readers():
            return None
        vpcd_card = VpcdCard(card).insert(timeout=1.0)
        # vpcd serves one card: make sure it is ours, not another program's
        if vpcd_card.wait_powered(insert_timeout) and pcsc.wait_for_card(
                VPCD_READER, timeout=insert_timeout):
            return PcscTransport(VPCD_READER), vpcd_card
    except ReaderError:
        pass
    if vpcd_card is not None:
        vpcd_card.remove()
    return None


@contextlib.contextmanager
def open_virtual(card: VirtualCardLike, *, prefer_pcsc: bool = True,
                 insert_timeout: float = 3.0) -> Iterator[CardSource]:
    """The virtual ``card`` through pcscd and vpcd when they are there (the whole real
    PC/SC stack), else through the in-process transport."""
    found = _vpcd_transport(card, insert_timeout) if prefer_pcsc else None
    if found is None:
        yield CardSource(DirectTransport(card), "in-process",
                         "virtual card in process (pcscd or vpcd not available)")
        return
    transport, vpcd_card = found
    try:
        yield CardSource(transport, "pcsc+vpcd",
                         f"virtual card through pcscd and vpcd ({VPCD_READER})")
    finally:
        transport.close()
        vpcd_card.remove()
