"""What a sandbox received and answered, kept for ``segur demo --out DIR``.

A :class:`Transcript` wraps a sandbox's ASGI app and records each HTTP exchange (method,
path, content types, request and response bodies) so that the demo can leave the wire
messages it produced (SOAP, MTOM...) next to its documents. Bounded: at most
``max_exchanges`` exchanges, bodies cut at ``max_body`` bytes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import attrs

from segur_core.files import write_private
from segur_core.model import hidden

__all__ = ["Exchange", "Transcript"]


@attrs.frozen
class Exchange:
    """One HTTP request to a sandbox and its answer."""

    method: str
    path: str
    request_type: str
    request_body: bytes = attrs.field(repr=hidden)
    status: int
    response_type: str
    response_body: bytes = attrs.field(repr=hidden)

    def files(self) -> tuple[bytes, bytes]:
        """The request and the response as readable ``.http`` texts (start line,
        content type, blank line, body)."""
        request = f"{self.method} {self.path}\r\nContent-Type: {self.request_type}\r\n\r\n"
        response = f"HTTP {self.status}\r\nContent-Type: {self.response_type}\r\n\r\n"
        return request.encode() + self.request_body, response.encode() + self.response_body


def _content_type(headers: Any) -> str:
    for name, value in headers or ():
        if name.lower() == b"content-type":
            return bytes(value).decode("latin-1")
    return ""


class Transcript:
    """The exchanges of one sandbox, in the order they completed (thread-safe)."""

    def __init__(self, *, max_exchanges: int = 500, max_body: int = 2 * 1024 * 1024) -> None:
        self.max_exchanges = max_exchanges
        self.max_body = max_body
        self._exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def middleware(self, app: Any) -> Any:
        """Wrap an ASGI app so that every HTTP exchange is recorded here."""
        transcript = self

        async def recorded(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            request = bytearray()
            response = bytearray()
            answer: dict[str, Any] = {"status": 0, "type": ""}

            async def receive_recorded() -> Any:
                message = await receive()
                if message["type"] == "http.request":
                    request.extend(message.get("body", b"")[: transcript.max_body - len(request)])
                return message

            async def send_recorded(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    answer["status"] = message["status"]
                    answer["type"] = _content_type(message.get("headers"))
                elif message["type"] == "http.response.body":
                    body = message.get("body", b"")
                    response.extend(body[: transcript.max_body - len(response)])
                await send(message)

            try:
                await app(scope, receive_recorded, send_recorded)
            finally:
                transcript._add(
                    Exchange(
                        method=scope.get("method", ""),
                        path=scope.get("path", ""),
                        request_type=_content_type(scope.get("headers")),
                        request_body=bytes(request),
                        status=answer["status"],
                        response_type=answer["type"],
                        response_body=bytes(response),
                    )
                )

        return recorded

    def _add(self, exchange: Exchange) -> None:
        with self._lock:
            if len(self._exchanges) < self.max_exchanges:
                self._exchanges.append(exchange)

    def write(self, directory: Path) -> list[Path]:
        """Write ``NNN-request.http`` / ``NNN-response.http`` for each exchange."""
        written: list[Path] = []
        for number, exchange in enumerate(self.exchanges, start=1):
            for suffix, content in zip(("request", "response"), exchange.files(), strict=True):
                path = directory / f"{number:03d}-{suffix}.http"
                written.append(write_private(path, content))  # 0600: they carry INS
        return written
