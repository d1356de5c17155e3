"""A loopback HTTP receiver that honours the ``Idempotency-Key`` header and counts.

``received[key]`` counts every POST, ``honoured[key]`` the ones it acted on (the first
per key). A ``hold`` callback may block a request before it is answered, to kill the
sender while the receiver has already acted. Stdlib only (``http.server``), so the
crash test and the benchmark measure the outbox, not a web framework.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["KEY_HEADER", "CountingReceiver"]

KEY_HEADER = "Idempotency-Key"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real service
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between head and body
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        key = self.headers.get(KEY_HEADER)
        if not key:
            self._answer(400, b"missing idempotency key")
            return
        receiver = self.server.receiver
        with receiver.lock:
            receiver.received[key] += 1
            first = key not in receiver.honoured
            if first:
                receiver.honoured[key] += 1
                receiver.bodies[key] = body
            number = sum(receiver.honoured.values())
        if receiver.hold is not None:
            receiver.hold(key, number)
        self._answer(201 if first else 200, b"created" if first else b"duplicate")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    receiver: CountingReceiver


class CountingReceiver:
    """Start with :meth:`start` (returns the URL), stop with :meth:`stop`."""

    def __init__(self, hold: Callable[[str, int], None] | None = None) -> None:
        self.hold = hold
        self.lock = threading.Lock()
        self.received: Counter[str] = Counter()
        self.honoured: Counter[str] = Counter()
        self.bodies: dict[str, bytes] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the receiver is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/deliveries"

    def start(self, port: int = 0) -> str:
        """Listen on ``port`` (any free one by default); return the URL."""
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> CountingReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
