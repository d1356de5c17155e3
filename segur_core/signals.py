"""Stopping a long-running command cleanly on a signal (``segur serve``, ``segur outbox
run``): the handler only sets an event the command watches, so the work under way is
finished rather than cut short (a handler that raised would abandon a delivery in the
middle, left in flight until its lease expires).

Handlers are installed in the main thread only (Python allows no other: a command run by
a test's ``CliRunner`` in a thread keeps the process's handlers) and the previous ones are
restored on the way out.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["stop_event"]


@contextlib.contextmanager
def stop_event(*signals: signal.Signals) -> Iterator[threading.Event]:
    """An event set when one of ``signals`` arrives while inside the block."""
    stop = threading.Event()
    original: dict[signal.Signals, Any] = {}
    try:
        if threading.current_thread() is threading.main_thread():
            for sig in signals:
                original[sig] = signal.signal(sig, lambda *_: stop.set())
        yield stop
    finally:
        for sig, handler in original.items():
            # None: a handler not installed from Python, which cannot be put back
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
