"""How the reading code talks to a card: the :class:`CardTransport` protocol.

Two implementations: :class:`PcscTransport` (a reader through PC/SC, pyscard) and
:class:`DirectTransport` (an in-process virtual card, no pcscd). The Vitale logic only
sees ``atr()`` and ``transmit(apdu) -> response bytes``.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol, runtime_checkable

from segur_vitale import pcsc
from segur_vitale.errors import CardAbsentError, CardProtocolError, CardRemovedError
from segur_vitale.i18n import _

__all__ = ["CardTransport", "DirectTransport", "PcscTransport", "VirtualCardLike"]


@runtime_checkable
class CardTransport(Protocol):
    """A connection to one card in one reader."""

    @property
    def name(self) -> str:
        """The reader name (shown to the pharmacist, stored in the reading)."""

    def atr(self) -> bytes:
        """The card's Answer To Reset."""

    def transmit(self, apdu: bytes) -> bytes:
        """Send a command APDU, return the response APDU (data + SW1 SW2)."""

    def close(self) -> None:
        """Release the card (the card stays in the reader)."""


class VirtualCardLike(Protocol):
    """What :class:`DirectTransport` needs from a card (see ``segur_vitale.virtual``)."""

    atr: bytes

    def power_on(self) -> None: ...

    def power_off(self) -> None: ...

    def process(self, apdu: bytes) -> bytes: ...


class DirectTransport:
    """An in-process link to a virtual card: same card logic, no pcscd.

    ``remove()`` pulls the card out; ``pull_out_after(n)`` pulls it out after ``n`` more
    APDUs (to test a card pulled out in the middle of a read).
    """

    def __init__(self, card: VirtualCardLike, *, name: str = "virtual card (in-process)"):
        self.card = card
        self._name = name
        self._present = True
        self._remaining: int | None = None
        self.sent: list[bytes] = []
        card.power_on()

    @property
    def name(self) -> str:
        return self._name

    def remove(self) -> None:
        self._present = False
        self.card.power_off()

    def pull_out_after(self, apdus: int) -> None:
        self._remaining = apdus

    def atr(self) -> bytes:
        if not self._present:
            raise CardAbsentError("no card in the virtual reader", hint="insert the card")
        return bytes(self.card.atr)

    def transmit(self, apdu: bytes) -> bytes:
        if self._remaining is not None:
            if self._remaining <= 0:
                self.remove()
            self._remaining -= 1
        if not self._present:
            raise CardRemovedError(
                "the card was removed during the exchange",
                hint="insert the card again and keep it in",
            )
        self.sent.append(bytes(apdu))
        return self.card.process(bytes(apdu))

    def close(self) -> None:
        pass


class PcscTransport:
    """A card in a PC/SC reader (shared mode, T=0 or T=1 as the card offers)."""

    def __init__(self, reader: str, *, context: Any = None) -> None:
        self._sc = pcsc.scard()
        self._reader = reader
        self._own_context = context is None
        self._context = pcsc.establish_context() if context is None else context
        self._lock = threading.Lock()
        sc = self._sc
        try:
            hresult, self._card, protocol = sc.SCardConnect(
                self._context,
                reader,
                sc.SCARD_SHARE_SHARED,
                sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1,
            )
            pcsc.check(
                hresult,
                _("cannot connect to the card in {reader!r}").format(reader=reader),
                reader=reader,
            )
        except BaseException:
            self._release_context()
            raise
        self._pci = sc.SCARD_PCI_T0 if protocol == sc.SCARD_PROTOCOL_T0 else sc.SCARD_PCI_T1
        self.protocol = "T=0" if protocol == sc.SCARD_PROTOCOL_T0 else "T=1"

    @property
    def name(self) -> str:
        return self._reader

    def atr(self) -> bytes:
        hresult, _reader, _state, _protocol, atr = self._sc.SCardStatus(self._card)
        pcsc.check(hresult, _("cannot read the card status"), reader=self._reader)
        return bytes(atr)

    def transmit(self, apdu: bytes) -> bytes:
        sc = self._sc
        with self._lock:
            hresult, response = sc.SCardTransmit(self._card, self._pci, list(apdu))
        if hresult == sc.SCARD_S_SUCCESS and len(response) >= 2:
            return bytes(response)
        if hresult in (
            sc.SCARD_S_SUCCESS,
            sc.SCARD_E_NOT_TRANSACTED,
            sc.SCARD_E_COMM_DATA_LOST,
            sc.SCARD_F_COMM_ERROR,
            sc.SCARD_E_NO_SMARTCARD,
        ):
            # The driver lost the card mid-exchange (vpcd answers nothing when the card
            # goes away): pulled out, or a broken answer. pcscd notices a removal at its
            # next presence poll, so wait a little for it before deciding.
            if self._removed_within(self.removal_grace):
                raise CardRemovedError(
                    "the card was removed during the exchange",
                    hint="insert the card again and keep it in",
                )
            if hresult == sc.SCARD_S_SUCCESS:
                return bytes(response)  # a truncated answer: the APDU layer types it
            raise CardProtocolError(
                "the card exchange failed", hint="remove the card and insert it again"
            )
        pcsc.check(hresult, _("the card exchange failed"), reader=self._reader)
        raise AssertionError("unreachable")  # pragma: no cover

    #: Seconds to wait for pcscd to notice a removal after a failed exchange.
    removal_grace = 1.5

    def _removed_within(self, seconds: float) -> bool:
        sc = self._sc
        deadline = time.monotonic() + seconds
        state = sc.SCARD_STATE_UNAWARE
        while True:
            remaining = int(max(0.0, deadline - time.monotonic()) * 1000)
            hresult, states = sc.SCardGetStatusChange(
                self._context, remaining, [(self._reader, state)]
            )
            if hresult == sc.SCARD_E_TIMEOUT:
                return False
            if hresult != sc.SCARD_S_SUCCESS:
                return True  # the reader itself went away
            state = states[0][1] & ~sc.SCARD_STATE_CHANGED
            if state & (sc.SCARD_STATE_EMPTY | sc.SCARD_STATE_MUTE | sc.SCARD_STATE_UNAVAILABLE):
                return True
            if remaining == 0:
                return False

    def close(self) -> None:
        card, self._card = getattr(self, "_card", None), None
        if card is not None:
            self._sc.SCardDisconnect(card, self._sc.SCARD_LEAVE_CARD)
        self._release_context()

    def _release_context(self) -> None:
        if self._own_context and self._context is not None:
            pcsc.release_context(self._context)
            self._context = None

    def __enter__(self) -> PcscTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
