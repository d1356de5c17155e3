"""The card monitor's callback failures: contained, and logged without patient data."""

from __future__ import annotations

import logging

from segur_vitale.monitor import CardEvent, CardMonitor, EventKind
from segur_vitale.virtual import DEMO_CARDHOLDER


def test_callback_failure_is_logged_without_its_text(caplog):
    """The callback sees the reading (a UI, the host): its error may quote the NIR."""

    def on_event(event: CardEvent) -> None:
        raise ValueError(f"no patient file for {DEMO_CARDHOLDER.nir}")

    monitor = CardMonitor(on_event)  # not started: no PC/SC needed to run a callback
    with caplog.at_level(logging.DEBUG, logger="segur_vitale"):
        monitor._emit(CardEvent(EventKind.INSERTED, "Virtual PCD 00 00", atr=b"\x3b"))
    assert "card event handler failed on inserted" in caplog.text
    assert "ValueError at " in caplog.text
    assert DEMO_CARDHOLDER.nir not in caplog.text
