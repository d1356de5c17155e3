"""From a card in a reader to ``runtime.card_read(reading)``.

:func:`choose_beneficiary` asks the pharmacist (host decision hook) when the card holds
several beneficiaries; :func:`dispatch` journals the access and fires ``on_card_read``;
:class:`CounterReader` does both automatically on every card insertion seen by a
:class:`~segur_vitale.monitor.CardMonitor`. A read that fails dispatches nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from segur_core.errors import CardError
from segur_core.model import CardKind, CardReading, Option, Question
from segur_vitale.atr import card_kind
from segur_vitale.monitor import CardEvent, CardMonitor, EventKind
from segur_vitale.transport import CardTransport, PcscTransport
from segur_vitale.vitale import Beneficiary, VitaleCard, read_vitale

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = [
    "CHOOSE_BENEFICIARY",
    "CounterReader",
    "choose_beneficiary",
    "dispatch",
    "read_and_dispatch",
]

log = logging.getLogger(__name__)

#: ``Question.kind`` asked when a card holds several beneficiaries.
CHOOSE_BENEFICIARY = "vitale.choose-beneficiary"


def choose_beneficiary(runtime: Runtime, card: VitaleCard) -> Beneficiary:
    """The beneficiary to use: the only one, or the pharmacist's choice."""
    if not card.beneficiaries:
        raise CardError("the carte Vitale lists no beneficiary")
    if len(card.beneficiaries) == 1:
        return card.beneficiaries[0]
    question = Question(
        kind=CHOOSE_BENEFICIARY,
        prompt="Cette carte Vitale porte plusieurs bénéficiaires : lequel est au comptoir ?",
        options=tuple(Option(str(b.rank), b.label) for b in card.beneficiaries),
        default=str(card.beneficiaries[0].rank),
    )
    answer = runtime.host.decide(question)
    return next(b for b in card.beneficiaries if str(b.rank) == answer.key)


def dispatch(runtime: Runtime, card: VitaleCard) -> CardReading:
    """Pick the beneficiary, journal the read and fire ``on_card_read``."""
    beneficiary = choose_beneficiary(runtime, card)
    reading = card.reading(beneficiary)
    runtime.journal.record(
        "vitale.card-read",
        details={"source": reading.source.value, "card_kind": card.kind.value,
                 "beneficiaries": len(card.beneficiaries), "rank": beneficiary.rank},
    )
    runtime.card_read(reading)
    return reading


def read_and_dispatch(runtime: Runtime, transport: CardTransport) -> CardReading:
    """Read the carte Vitale behind ``transport`` and dispatch it; a failed read is
    journaled with its error type and re-raised, and nothing is dispatched."""
    try:
        card = read_vitale(transport)
    except CardError as error:
        runtime.journal.record("vitale.card-read", outcome="error",
                               details={"error": type(error).__name__})
        raise
    return dispatch(runtime, card)


class CounterReader:
    """Read every carte Vitale inserted in the watched readers and dispatch it.

    ``on_reading(reading)``, ``on_cps(reader, kind)`` and ``on_error(reader, error)``
    let a UI follow what happens; all run on the monitor thread.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        reader_filter: str | None = None,
        on_reading: Callable[[CardReading], Any] | None = None,
        on_cps: Callable[[str, CardKind], Any] | None = None,
        on_error: Callable[[str, CardError], Any] | None = None,
        on_event: Callable[[CardEvent], Any] | None = None,
        transport_factory: Callable[[str], CardTransport] = PcscTransport,
    ) -> None:
        self.runtime = runtime
        self.on_reading = on_reading
        self.on_cps = on_cps
        self.on_error = on_error
        self.on_event = on_event
        self.transport_factory = transport_factory
        self.monitor = CardMonitor(self._handle, reader_filter=reader_filter)
        self.readings: list[CardReading] = []
        self.errors: list[CardError] = []
        self._lock = threading.Lock()

    def start(self) -> CounterReader:
        self.monitor.start()
        return self

    def stop(self) -> None:
        self.monitor.stop()

    def _handle(self, event: CardEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)
        if event.kind is not EventKind.INSERTED:
            return
        kind = card_kind(event.atr or b"")
        if kind in (CardKind.CPS_3, CardKind.CPS_4):
            if self.on_cps is not None:
                self.on_cps(event.reader, kind)
            return
        try:
            transport = self.transport_factory(event.reader)
            try:
                reading = read_and_dispatch(self.runtime, transport)
            finally:
                transport.close()
        except CardError as error:
            log.info("card read failed in a reader: %s", type(error).__name__)
            with self._lock:
                self.errors.append(error)
            if self.on_error is not None:
                self.on_error(event.reader, error)
            return
        with self._lock:
            self.readings.append(reading)
        if self.on_reading is not None:
            self.on_reading(reading)

    def __enter__(self) -> CounterReader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
