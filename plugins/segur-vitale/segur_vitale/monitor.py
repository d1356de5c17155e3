"""Card insertion and removal monitoring over PC/SC (``SCardGetStatusChange``).

:class:`CardMonitor` runs a polling thread that reports :class:`CardEvent` objects
(card inserted with its ATR, card removed, reader added or gone) to a callback. A card
already in a reader when the monitor starts is reported as inserted. The callback runs
on the monitor thread; an exception it raises is logged (its type and place, never its
text, which may quote the patient) and never kills the thread.
"""

from __future__ import annotations

import enum
import logging
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import attrs

from segur_vitale import pcsc
from segur_vitale.errors import ReaderError

__all__ = ["CardEvent", "CardMonitor", "EventKind"]

log = logging.getLogger(__name__)


class EventKind(enum.StrEnum):
    INSERTED = "inserted"
    REMOVED = "removed"
    READER_ADDED = "reader-added"
    READER_REMOVED = "reader-removed"
    SERVICE_LOST = "service-lost"


@attrs.frozen
class CardEvent:
    """Something happened in a reader; ``atr`` is set for ``INSERTED``."""

    kind: EventKind
    reader: str
    atr: bytes | None = None


class CardMonitor:
    """Watch the readers whose name contains ``reader_filter`` (all when ``None``)."""

    def __init__(self, on_event: Callable[[CardEvent], None], *,
                 reader_filter: str | None = None, poll_ms: int = 200) -> None:
        self.on_event = on_event
        self.reader_filter = reader_filter
        self.poll_ms = poll_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self.error: BaseException | None = None

    def start(self, *, timeout: float = 5.0) -> CardMonitor:
        """Start watching; returns once the current state of the readers is known."""
        pcsc.scard()  # PcscUnavailableError now rather than in the thread
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="card-monitor", daemon=True)
        self._thread.start()
        self._started.wait(timeout)
        if self.error is not None:
            raise self.error
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _emit(self, event: CardEvent) -> None:
        try:
            self.on_event(event)
        except Exception as exc:
            # the callback holds the reading: its error text may quote the patient, so the
            # log names the error's type and where it was raised, not its message
            frames = traceback.extract_tb(exc.__traceback__)
            where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
            log.error("card event handler failed on %s: %s%s", event.kind,
                      type(exc).__qualname__, where)

    def _run(self) -> None:
        sc = pcsc.scard()
        try:
            context = pcsc.establish_context()
        except ReaderError as error:
            self.error = error
            self._started.set()
            return
        known: dict[str, int] = {}  # reader -> last state (without the CHANGED bit)
        try:
            while not self._stop.is_set():
                try:
                    readers = pcsc.list_readers(self.reader_filter, context=context)
                except ReaderError:
                    self._emit(CardEvent(EventKind.SERVICE_LOST, ""))
                    self._stop.wait(0.5)
                    continue
                for gone in set(known) - set(readers):
                    if known.pop(gone) & sc.SCARD_STATE_PRESENT:
                        self._emit(CardEvent(EventKind.REMOVED, gone))
                    self._emit(CardEvent(EventKind.READER_REMOVED, gone))
                for new in readers:
                    if new not in known:
                        known[new] = sc.SCARD_STATE_UNAWARE
                        if self._started.is_set():
                            self._emit(CardEvent(EventKind.READER_ADDED, new))
                if not readers:
                    self._started.set()
                    self._stop.wait(self.poll_ms / 1000)
                    continue
                hresult, states = sc.SCardGetStatusChange(
                    context, self.poll_ms, [(name, known[name]) for name in readers])
                if hresult == sc.SCARD_S_SUCCESS:
                    for name, event_state, atr in states:
                        self._update(known, name, event_state, bytes(atr))
                elif hresult not in (sc.SCARD_E_TIMEOUT, sc.SCARD_E_UNKNOWN_READER,
                                     sc.SCARD_E_READER_UNAVAILABLE):
                    log.warning("SCardGetStatusChange: %s", sc.SCardGetErrorMessage(hresult))
                    self._stop.wait(0.2)
                self._started.set()
        finally:
            pcsc.release_context(context)
            self._started.set()

    def _update(self, known: dict[str, int], name: str, event_state: int, atr: bytes) -> None:
        sc = pcsc.scard()
        previous = known.get(name, sc.SCARD_STATE_UNAWARE)
        state = event_state & ~sc.SCARD_STATE_CHANGED
        known[name] = state
        was = bool(previous & sc.SCARD_STATE_PRESENT)
        now = bool(state & sc.SCARD_STATE_PRESENT) and not state & sc.SCARD_STATE_MUTE
        if now and not was:
            self._emit(CardEvent(EventKind.INSERTED, name, atr))
        elif was and not now:
            self._emit(CardEvent(EventKind.REMOVED, name))
        elif was and now and (state >> 16) != (previous >> 16):
            # pcscd counts card events in the high 16 bits: a card was swapped between
            # two polls (removed and another one inserted).
            self._emit(CardEvent(EventKind.REMOVED, name))
            self._emit(CardEvent(EventKind.INSERTED, name, atr))

    def __enter__(self) -> CardMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
