"""A blocking HTTP/1.1 server: each connection served by one thread, request to answer.

``segur serve``'s calls block (INSi, the DMP, a validation, the journal), so an event
loop buys it nothing and costs a hand-over per call: the loop parses, a worker thread
runs the handler, the loop writes (docs/performance.md, segur serve). Here the thread
that owns a connection receives the request, parses it (httptools, the C parser of
Node.js), calls the handler and sends the answer: a ``recv``, a parse, the handler and
a ``send``. Keep-alive, pipelined requests (answered in order), ``HEAD``, chunked
bodies, ``Expect: 100-continue`` and mutual TLS (the handshake in the connection's
thread) are handled; a body over the limit is never read (the handler says 413 or an
earlier refusal, then the connection closes). :meth:`HttpServer.stop` stops accepting,
closes idle connections, lets the calls under way finish (at most ``grace`` seconds)
and answers them with ``Connection: close``.
"""

from __future__ import annotations

import contextlib
import email.utils
import http
import logging
import selectors
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

__all__ = ["Answer", "HttpServer", "Peer", "Request"]

log = logging.getLogger("segur.serve")

#: What a handler returns: status, body, media type, more headers (or ``None``).
Answer = tuple[int, bytes, str, Mapping[str, str] | None]

#: Largest request head (request line and headers): more is refused (431).
MAX_HEAD = 64 * 1024
_READ = 65536


class Peer:
    """Who is at the other end of a connection: its address (TCP), the subject of its
    verified client certificate (mutual TLS), its user id (Unix socket)."""

    __slots__ = ("cert_name", "host", "uid")

    def __init__(
        self, host: str | None = None, cert_name: str | None = None, uid: int | None = None
    ) -> None:
        self.host = host
        self.cert_name = cert_name
        self.uid = uid


class Request:
    """One request as read: ``path`` percent-decoded, ``query`` as sent, ``headers`` by
    lower-case name (the first of repeated ones), ``body`` whole, or ``too_large`` and
    empty when it went over the server's limit (never read past it)."""

    __slots__ = ("body", "headers", "keep_alive", "method", "path", "peer", "query", "too_large")

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        peer: Peer,
        *,
        too_large: bool = False,
        keep_alive: bool = True,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.peer = peer
        self.too_large = too_large
        self.keep_alive = keep_alive


class _Refused(Exception):
    """The bytes received are not an HTTP/1.1 request this server takes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Reader:
    """httptools' callbacks for one connection: the requests read so far, in order."""

    def __init__(self, limit: int, on_continue: Callable[[], None]) -> None:
        import httptools

        self.limit = limit
        self.on_continue = on_continue
        self.parser = httptools.HttpRequestParser(self)
        #: complete requests: method, target, headers, body, too large, keep alive
        self.done: list[tuple[bytes, bytes, dict[str, str], bytes, bool, bool]] = []
        self.method = b""
        self.started = False  # a request begun and not complete
        self.head_complete = False
        self.head_size = 0
        self.url = b""
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False

    def feed(self, data: bytes) -> bool:
        """Parse ``data``; False when the connection must close once the requests read
        are answered (a protocol upgrade asked for: never done, the bytes after it
        never read)."""
        import httptools

        if not self.head_complete:
            self.head_size += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if not self.done:
                raise _Refused(400, "protocol upgrades are not supported") from None
            return False
        except httptools.HttpParserCallbackError as exc:
            raise (exc.__context__ or exc) from None  # a send that failed (100 Continue)
        except httptools.HttpParserError as exc:
            raise _Refused(400, f"not an HTTP/1.1 request ({exc})") from None
        if not self.head_complete and self.head_size > MAX_HEAD:
            raise _Refused(431, f"the request head is larger than {MAX_HEAD} bytes")
        return True

    # -- httptools callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.started = True
        self.head_complete = False
        self.url = b""
        self.headers = {}
        self.chunks = []
        self.size = 0
        self.too_large = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self.head_complete = True
        self.method = self.parser.get_method()
        declared = self.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            self.too_large = True  # answered at once; the body is never read
        elif self.headers.get("expect", "").lower() == "100-continue":
            self.on_continue()

    def on_body(self, body: bytes) -> None:
        if self.too_large:
            return
        self.size += len(body)
        if self.size > self.limit:
            self.too_large = True
            self.chunks = []
        else:
            self.chunks.append(body)

    def on_message_complete(self) -> None:
        chunks = self.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        keep = self.parser.should_keep_alive() and not self.too_large
        self.done.append((self.method, self.url, self.headers, body, self.too_large, keep))
        self.started = self.head_complete = False
        self.head_size = 0


_REASONS = {status.value: status.phrase.encode("ascii") for status in http.HTTPStatus}


class _Clock:
    """The ``Date`` header, formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._line = b""

    def line(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._line = b"date: " + email.utils.formatdate(now, usegmt=True).encode() + b"\r\n"
            self._second = now
        return self._line


class _Connection:
    __slots__ = ("busy", "sock", "thread")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.busy = False
        self.thread: threading.Thread | None = None


class HttpServer:
    """Serve ``handler(request) -> answer`` on the listening socket ``sock`` (TCP or
    Unix), one thread per connection.

    ``ssl_context``: TLS (server side; mutual when the context requires client
    certificates). ``max_body``: larger bodies are not read (the handler gets
    ``too_large``). ``idle_timeout``: a kept-alive connection without a request for so
    long is closed; ``io_timeout``: a request not read whole so long after its first
    bytes (a client dripping them), or an answer stuck so long, is dropped.
    ``max_connections``: more wait in the listening queue. ``refuse(status, message)``:
    the body of an answer to bytes that are not a request (400, 431).
    """

    def __init__(
        self,
        sock: socket.socket,
        handler: Callable[[Request], Answer],
        *,
        refuse: Callable[[int, str], Answer],
        ssl_context: ssl.SSLContext | None = None,
        max_body: int,
        idle_timeout: float = 5.0,
        io_timeout: float = 30.0,
        max_connections: int = 128,
    ) -> None:
        self.sock = sock
        self.handler = handler
        self.refuse = refuse
        self.ssl_context = ssl_context
        self.max_body = max_body
        self.idle_timeout = idle_timeout
        self.io_timeout = io_timeout
        self.max_connections = max_connections
        self.unix = sock.family == getattr(socket, "AF_UNIX", None)
        self._clock = _Clock()
        self._lock = threading.Condition()
        self._connections: set[_Connection] = set()
        self._stopping = False
        self._wake, self._waker = socket.socketpair()  # select() takes sockets everywhere
        self._acceptor: threading.Thread | None = None

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        """Accept connections in a background thread."""
        self.sock.listen(min(socket.SOMAXCONN, 1024))
        self._acceptor = threading.Thread(target=self._accept, name="segur-accept", daemon=True)
        self._acceptor.start()

    def stop(self, grace: float) -> None:
        """Stop accepting, close the idle connections, wait at most ``grace`` seconds for
        the calls under way (each answered, then its connection closed), then cut the
        rest. The listening socket is left to its owner."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            idle = [c for c in self._connections if not c.busy]
            self._lock.notify_all()
        with contextlib.suppress(OSError):
            self._waker.send(b"x")
        if self._acceptor is not None:
            self._acceptor.join(10)
        for connection in idle:
            _shutdown(connection.sock, socket.SHUT_RD)  # its recv returns: the thread ends
        deadline = time.monotonic() + grace
        with self._lock:
            while self._connections and time.monotonic() < deadline:
                self._lock.wait(max(0.0, min(0.1, deadline - time.monotonic())))
            left = list(self._connections)
        for connection in left:
            _shutdown(connection.sock, socket.SHUT_RDWR)
        for connection in left:
            if connection.thread is not None:
                connection.thread.join(1.0)
        self._wake.close()
        self._waker.close()

    def _accept(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            selector.register(self._wake, selectors.EVENT_READ)
            while True:
                with self._lock:
                    while len(self._connections) >= self.max_connections and not self._stopping:
                        self._lock.wait()
                    if self._stopping:
                        return
                events = selector.select()
                if self._stopping:
                    return
                if not any(key.fileobj is self.sock for key, _ in events):
                    continue
                try:
                    conn, address = self.sock.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:  # out of descriptors: let connections close first
                    log.error("cannot accept a connection: %s", exc)
                    time.sleep(0.1)
                    continue
                connection = _Connection(conn)
                with self._lock:
                    self._connections.add(connection)
                thread = threading.Thread(
                    target=self._serve, args=(connection, address), daemon=True,
                    name="segur-http",
                )  # fmt: skip
                connection.thread = thread
                thread.start()

    # -- one connection --------------------------------------------------------------------

    def _serve(self, connection: _Connection, address: Any) -> None:
        sock = connection.sock
        try:
            sock.settimeout(self.io_timeout)
            if self.ssl_context is not None:
                try:
                    sock = connection.sock = self.ssl_context.wrap_socket(sock, server_side=True)
                except (OSError, ssl.SSLError) as exc:
                    log.debug("TLS connection refused: %s", exc)
                    return
            self._requests(connection, self._peer(sock, address))
        except (OSError, ssl.SSLError) as exc:
            log.debug("connection ended: %s", exc)
        finally:
            with contextlib.suppress(OSError):
                sock.close()
            with self._lock:
                self._connections.discard(connection)
                self._lock.notify_all()

    def _peer(self, sock: socket.socket, address: Any) -> Peer:
        if self.unix:
            uid = None
            if hasattr(socket, "SO_PEERCRED"):
                with contextlib.suppress(OSError):
                    creds = sock.getsockopt(
                        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
                    )
                    uid = struct.unpack("3i", creds)[1]
            return Peer(uid=uid)
        host = str(address[0]) if isinstance(address, tuple) and address else None
        cert_name = None
        if isinstance(sock, ssl.SSLSocket):
            der = sock.getpeercert(binary_form=True)
            if der:
                from cryptography import x509

                cert_name = x509.load_der_x509_certificate(der).subject.rfc4514_string()
        return Peer(host=host, cert_name=cert_name)

    def _requests(self, connection: _Connection, peer: Peer) -> None:
        sock = connection.sock
        send = sock.sendall
        reader = _Reader(self.max_body, lambda: send(b"HTTP/1.1 100 Continue\r\n\r\n"))
        timeout = self.io_timeout
        deadline = 0.0  # of the request being read: a client dripping bytes is cut
        while True:
            if reader.started:
                if not deadline:
                    deadline = time.monotonic() + self.io_timeout
                wanted = deadline - time.monotonic()
                if wanted <= 0:
                    return  # stuck mid-request
            else:
                deadline, wanted = 0.0, self.idle_timeout
            if wanted != timeout:
                sock.settimeout(wanted)
                timeout = wanted
            try:
                data = sock.recv(_READ)
            except TimeoutError:
                return  # idle (closed quietly) or stuck mid-request
            if not data:
                return
            with self._lock:
                connection.busy = True
            try:
                keep_open = reader.feed(data)
            except _Refused as refused:
                self._answer(sock, "GET", self.refuse(refused.status, refused.message), close=True)
                _linger(sock)
                return
            if reader.started and reader.too_large and reader.head_complete:
                # over the limit: answered now, the rest is never read
                reader.done.append((reader.method, reader.url, reader.headers, b"", True, False))
            for method, url, headers, body, too_large, keep in reader.done:
                request = _request(method, url, headers, body, too_large, keep, peer)
                try:
                    answer = self.handler(request)
                except Exception as exc:  # a bug: the handler answers every refusal itself
                    log.error("unexpected %s serving a call", type(exc).__name__, exc_info=exc)
                    answer = self.refuse(500, "unexpected error in the service")
                with self._lock:
                    close = not keep or not keep_open or self._stopping
                self._answer(sock, request.method, answer, close=close)
                if close:
                    if too_large:
                        _linger(sock)
                    return
            reader.done.clear()
            with self._lock:
                connection.busy = reader.started
                if self._stopping and not reader.started:
                    return

    def _answer(self, sock: socket.socket, method: str, answer: Answer, *, close: bool) -> None:
        status, content, media_type, headers = answer
        if media_type.startswith("text/") and "charset=" not in media_type:
            media_type += "; charset=utf-8"
        head = [
            b"HTTP/1.1 %d %s\r\ncontent-length: %d\r\ncontent-type: %s\r\n"
            % (status, _REASONS.get(status, b"Unknown"), len(content),
               media_type.encode("latin-1")),
            self._clock.line(),
        ]  # fmt: skip
        if headers:
            head += [f"{k.lower()}: {v}\r\n".encode("latin-1") for k, v in headers.items()]
        if close:
            head.append(b"connection: close\r\n")
        head.append(b"\r\n")
        if method != "HEAD":
            head.append(content)
        sock.sendall(b"".join(head))


def _request(
    method: bytes,
    url: bytes,
    headers: dict[str, str],
    body: bytes,
    too_large: bool,
    keep: bool,
    peer: Peer,
) -> Request:
    import httptools

    try:
        parsed = httptools.parse_url(url)
    except httptools.HttpParserInvalidURLError:
        path, query = "", ""  # no operation has this path: 404
    else:
        path = (parsed.path or b"/").decode("latin-1")
        if "%" in path:
            path = unquote(path)
        query = (parsed.query or b"").decode("latin-1")
    return Request(method.decode("ascii"), path, query, headers, body, peer,
                   too_large=too_large, keep_alive=keep)  # fmt: skip


#: How long a connection closed before its request was read whole is still read from.
LINGER = 2.0


def _linger(sock: socket.socket) -> None:
    """Close gently a connection whose client may still be sending (a body over the
    limit, bytes that were not a request): stop writing, then read and drop what comes
    for at most :data:`LINGER` seconds, so that the client reads the answer rather than
    a reset (closing with unread data makes the kernel send one)."""
    _shutdown(sock, socket.SHUT_WR)
    deadline = time.monotonic() + LINGER
    with contextlib.suppress(OSError, ssl.SSLError):
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(_READ):
                return


def _shutdown(sock: socket.socket, how: int) -> None:
    """Shut a connection's socket down from another thread (its blocked ``recv``
    returns); on a TLS socket the raw socket's, leaving the TLS object to its thread."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, how)
