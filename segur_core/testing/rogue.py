"""A loopback HTTPS server that misbehaves on purpose, to test a connector's limits.

The sandboxes answer like the real services; :class:`RogueServer` answers like a broken
or hostile one, at the socket level where an ASGI app cannot: ``"drip"`` sends its
answer (status line included) one byte every ``interval`` seconds, ``"flood"`` answers
``size`` bytes of body in chunked encoding. Each connection reads one request (headers
and ``Content-Length`` body) and is served in its own thread. The server does not ask
for a client certificate, so any TLS client gets as far as the answer; give it a
certificate its clients do not trust to test their verification.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from pathlib import Path

from segur_core.tls import server_context

__all__ = ["RogueServer"]


def _read_request(conn: ssl.SSLSocket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


class RogueServer:
    """Serves ``behaviour`` (``"drip"`` or ``"flood"``) on ``https://127.0.0.1:<port>``.

    ``drip``: an answer of ``size`` body bytes, every byte of it (head included) sent
    ``interval`` seconds apart, for at most ``duration`` seconds. ``flood``: a 200
    answer whose chunked body is ``size`` bytes, sent as fast as the client reads.
    ``connections`` counts the connections accepted.
    """

    def __init__(
        self,
        cert: Path,
        key: Path,
        behaviour: str,
        *,
        size: int = 1024,
        interval: float = 0.5,
        duration: float = 30.0,
        content_type: str = "application/soap+xml; charset=utf-8",
    ) -> None:
        if behaviour not in ("drip", "flood"):
            raise ValueError(f"unknown behaviour {behaviour!r}")
        self.behaviour = behaviour
        self.size, self.interval, self.duration = size, interval, duration
        self.content_type = content_type
        self.connections = 0
        self._context = server_context(cert, key, None, require_client_cert=False)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RogueServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._handle, args=(raw,), daemon=True).start()

    def _handle(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        try:
            with self._context.wrap_socket(raw, server_side=True) as conn:
                _read_request(conn)
                if self.behaviour == "drip":
                    self._drip(conn)
                else:
                    self._flood(conn)
        except (OSError, ValueError):
            pass  # the client hung up or refused the handshake: what is tested
        finally:
            raw.close()

    def _drip(self, conn: ssl.SSLSocket) -> None:
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\n"
            f"Content-Length: {self.size}\r\n\r\n"
        ).encode()
        answer = head + b" " * self.size
        end = time.monotonic() + self.duration
        for index in range(len(answer)):
            if self._stop.is_set() or time.monotonic() > end:
                return
            conn.sendall(answer[index : index + 1])
            time.sleep(self.interval)

    def _flood(self, conn: ssl.SSLSocket) -> None:
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"<a>" + b"x" * (1024 * 1024 - 7) + b"</a>"
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        sent = 0
        while sent < self.size and not self._stop.is_set():
            conn.sendall(framed)
            sent += len(chunk)
        conn.sendall(b"0\r\n\r\n")
