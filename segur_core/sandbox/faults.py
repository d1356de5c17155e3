"""Fault injection for sandboxes: errors, delays, resets, hangs and down windows.

A :class:`FaultInjector` is shared between a test (which arms faults) and the sandbox
server thread (which asks, per request, what to do). ``middleware(app)`` wraps any ASGI
app so that every HTTP request first consults the injector. Random faults draw from a
seeded generator, so a given seed and request order always give the same faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections import Counter
from typing import Any

import attrs

__all__ = ["Fault", "FaultInjector"]


@attrs.frozen
class Fault:
    """What to do with one request. ``kind`` is ``none``, ``error``, ``reset``, ``hang``
    or ``down``; ``delay`` seconds are waited first in every case."""

    kind: str = "none"
    status: int = 503
    delay: float = 0.0
    hang_seconds: float = 0.0


@attrs.define
class FaultInjector:
    """Thread-safe fault plan consulted by sandboxes for every request.

    ``error_ratio``/``reset_ratio``/``hang_ratio`` are probabilities (their sum ≤ 1);
    ``fail_next(n)`` fails the next ``n`` requests for sure; ``down(seconds)`` answers
    503 to everything until ``up()`` or the window ends; ``delay`` is added to every
    request. ``counts`` tells how many of each fault were injected.
    """

    seed: int = 0
    error_ratio: float = 0.0
    error_status: int = 503
    reset_ratio: float = 0.0
    hang_ratio: float = 0.0
    hang_seconds: float = 30.0
    delay: float = 0.0
    _forced: list[Fault] = attrs.field(init=False, factory=list)
    _down_until: float | None = attrs.field(init=False, default=None)
    _random: random.Random = attrs.field(init=False)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock)
    counts: Counter[str] = attrs.field(init=False, factory=Counter)

    def __attrs_post_init__(self) -> None:
        self._random = random.Random(self.seed)

    # -- arming (from tests) -----------------------------------------------------------------

    def fail(self, ratio: float, *, status: int = 503) -> None:
        """Answer ``status`` to a random ``ratio`` of requests."""
        with self._lock:
            self.error_ratio, self.error_status = ratio, status

    def fail_next(self, count: int = 1, *, status: int = 503) -> None:
        """Answer ``status`` to the next ``count`` requests."""
        with self._lock:
            self._forced.extend(Fault("error", status=status) for _ in range(count))

    def reset_next(self, count: int = 1) -> None:
        """Close the connection abruptly on the next ``count`` requests."""
        with self._lock:
            self._forced.extend(Fault("reset") for _ in range(count))

    def hang_next(self, count: int = 1, *, seconds: float | None = None) -> None:
        """Answer nothing for ``seconds`` (beyond the client's timeout) on the next requests."""
        with self._lock:
            wait = self.hang_seconds if seconds is None else seconds
            self._forced.extend(Fault("hang", hang_seconds=wait) for _ in range(count))

    def reset_connections(self, ratio: float = 1.0) -> None:
        with self._lock:
            self.reset_ratio = ratio

    def hang(self, ratio: float = 1.0, *, seconds: float | None = None) -> None:
        with self._lock:
            self.hang_ratio = ratio
            if seconds is not None:
                self.hang_seconds = seconds

    def set_delay(self, seconds: float) -> None:
        with self._lock:
            self.delay = seconds

    def down(self, seconds: float | None = None) -> None:
        """Be unavailable (503) for ``seconds``, or until :meth:`up` when None."""
        with self._lock:
            self._down_until = float("inf") if seconds is None else time.monotonic() + seconds

    def up(self) -> None:
        with self._lock:
            self._down_until = None

    def clear(self) -> None:
        """Remove every fault (the random generator is not reseeded)."""
        with self._lock:
            self.error_ratio = self.reset_ratio = self.hang_ratio = self.delay = 0.0
            self._forced.clear()
            self._down_until = None

    # -- consulting (from the server) ----------------------------------------------------------

    def decide(self) -> Fault:
        """The fault for the next request (consumes forced faults and one random draw)."""
        with self._lock:
            delay = self.delay
            if self._down_until is not None:
                if time.monotonic() < self._down_until:
                    fault = Fault("down", status=503, delay=delay)
                    self.counts[fault.kind] += 1
                    return fault
                self._down_until = None
            if self._forced:
                forced = self._forced.pop(0)
                fault = attrs.evolve(forced, delay=delay)
            else:
                draw = self._random.random()
                if draw < self.reset_ratio:
                    fault = Fault("reset", delay=delay)
                elif draw < self.reset_ratio + self.hang_ratio:
                    fault = Fault("hang", delay=delay, hang_seconds=self.hang_seconds)
                elif draw < self.reset_ratio + self.hang_ratio + self.error_ratio:
                    fault = Fault("error", status=self.error_status, delay=delay)
                else:
                    fault = Fault("none", delay=delay)
            self.counts[fault.kind] += 1
            return fault

    def middleware(self, app: Any) -> Any:
        """Wrap an ASGI app so that every HTTP request consults this injector."""
        return _FaultMiddleware(app, self)


class _FaultMiddleware:
    def __init__(self, app: Any, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fault = self.injector.decide()
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.kind == "none":
            await self.app(scope, receive, send)
        elif fault.kind in ("error", "down"):
            body = b"sandbox down" if fault.kind == "down" else b"injected failure"
            await _send_plain(send, fault.status, body + b" (fault injection)")
        elif fault.kind == "hang":
            # Answer nothing until the client gives up (disconnects) or the hang ends.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_until_disconnect(receive), fault.hang_seconds)
            await _send_plain(send, 504, b"hang ended (fault injection)")
        elif fault.kind == "reset":
            transport = scope.get("extensions", {}).get("segur.transport")
            if transport is None:  # not served by ServerThread: best effort
                raise ConnectionResetError("injected connection reset")
            transport.abort()
            await asyncio.sleep(0)  # let the server notice the disconnection
            await _send_plain(send, 502, b"reset (fault injection)")  # dropped: disconnected


async def _until_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send_plain(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
