"""HTTP/1.1 exchanges through libcurl (``pycurl``): the transport of
:class:`~segur_core.wire.HttpCaller` when its TLS context comes from
:func:`segur_core.tls.client_context`.

Why libcurl: per request it costs the client about half the CPU of httpcore and h11 over
Python's ``ssl`` (the HTTP framing and the TLS records are done in C, the GIL released;
docs/performance.md), and the caller's contract is built in: ``CURLOPT_TIMEOUT_MS``
bounds the whole exchange (connect, handshake, write and read: a server dripping bytes
is cut at the deadline), ``CURLOPT_MAXFILESIZE`` refuses a ``Content-Length`` over the
cap before any byte of the body, the write callback receives decoded bytes (the cap
counts them), and a small request leaves in one TLS record.

libcurl has its own OpenSSL: it gets the context's
:class:`~segur_core.tls.ClientMaterial` (the CAs, the client chain and its encrypted
key, in memory), the context's cipher lists and TLS 1.2 at least; the server and its
host name are verified, and nothing else is trusted (no default CA store). No proxy from
the environment, no redirects, no cookies, HTTP/1.1 only.

One easy handle is one kept-alive connection: handles are pooled (at most
``max_connections``), each used by one thread at a time. Before a request, a kept
connection with something to read (the server closed it, or sent what no request asked
for) is not reused, as httpcore does (libcurl checks only connections idle for over a
second). libcurl sends a request again on a fresh connection when a reused one dies
before any answer byte; the server may have acted on it already, so that second sending
is refused (``CURLOPT_PREREQFUNCTION``) and the exchange fails as httpcore's does:
nothing is ever sent twice by the transport.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pycurl

from segur_core.tls import ClientMaterial
from segur_core.wire.sockets import readable_now

__all__ = ["CapExceeded", "CurlFailure", "CurlTransport", "header_lines"]

#: Headers libcurl writes of its own accord; those a request does not give are removed
#: (an empty ``Name:`` line), so that it carries ``Host`` and its own headers only.
_OWN = ("Accept", "Accept-Encoding", "Content-Type", "Expect", "User-Agent")
_OWN_LOWER = {name.lower(): f"{name}:" for name in _OWN}


_BROKEN = "the connection broke before any answer; the request is not sent again"


class CurlFailure(OSError):
    """libcurl could not complete the exchange (``errno``: its error code)."""


class CapExceeded(Exception):
    """The answer is larger than the call's cap (declared or as it streamed)."""


class _Reader:
    """An answer as libcurl delivers it: its heads (libcurl appends each line to
    ``head``, no Python call per line), its decoded body."""

    __slots__ = ("body", "broken", "cap", "head", "over", "sendings")

    def __init__(self) -> None:
        self.head = bytearray()
        self.reset(0)

    def reset(self, cap: int) -> None:
        self.head.clear()
        self.body = bytearray()
        self.cap = cap
        self.over = False
        self.sendings = 0
        self.broken = False

    def prerequest(self, *_connection: object) -> int:
        """Before a request is sent: once only (see the module's docstring)."""
        self.sendings += 1
        if self.sendings > 1:
            self.broken = True
            return pycurl.PREREQFUNC_ABORT
        return pycurl.PREREQFUNC_OK

    def write(self, chunk: bytes) -> int | None:
        self.body += chunk
        if len(self.body) > self.cap:
            self.over = True
            return 0  # libcurl stops the transfer (CURLE_WRITE_ERROR)
        return None

    def headers(self) -> dict[str, str]:
        """The fields of the last head (after any interim 1xx one; trailers left out),
        names lower-cased (the last of a repeated name wins)."""
        text = self.head.decode("latin-1").replace("\r\n", "\n")
        heads = [block for block in text.split("\n\n") if block.startswith("HTTP/")]
        fields = {}
        for line in heads[-1].split("\n")[1:] if heads else ():
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip().lower()] = value.strip()
        return fields


def _stale(handle: pycurl.Curl) -> bool:
    """Whether the handle's kept connection has something to read before a request."""
    fd = handle.getinfo(pycurl.ACTIVESOCKET)
    return fd >= 0 and readable_now(fd)


def _failure(error: pycurl.error) -> OSError:
    """A Python exception for a libcurl error: ``TimeoutError`` for the deadline,
    ``ssl.SSLCertVerificationError`` for a server certificate that does not verify
    (where :func:`~segur_core.wire.errors.certificate_failure` finds it), else
    :class:`CurlFailure`."""
    code, message = error.args
    if code == pycurl.E_OPERATION_TIMEDOUT:
        return TimeoutError(message)
    if code == pycurl.E_PEER_FAILED_VERIFICATION:
        return ssl.SSLCertVerificationError(message)
    return CurlFailure(code, message)


def header_lines(fields: Iterable[tuple[str, str]]) -> list[str]:
    """libcurl's header lines for a request carrying ``fields`` after ``Host``, in their
    order: the fields, then the removal of libcurl's own headers they do not set."""
    lines, own = [], dict(_OWN_LOWER)
    for name, value in fields:
        lines.append(f"{name}: {value}")
        own.pop(name.lower(), None)
    return lines + list(own.values())


class _Connection:
    """An easy handle (its connection kept alive between exchanges) and its reader."""

    __slots__ = ("handle", "reader")

    def __init__(self, material: ClientMaterial, ciphers: Sequence[Mapping[str, Any]]) -> None:
        self.reader = _Reader()
        handle = self.handle = pycurl.Curl()
        for option, value in (
            (pycurl.NOSIGNAL, 1),
            (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1),
            (pycurl.PROTOCOLS, pycurl.PROTO_HTTPS | pycurl.PROTO_HTTP),
            (pycurl.PROXY, ""),  # never a proxy from the environment
            (pycurl.MAXCONNECTS, 1),
            (pycurl.TCP_NODELAY, 1),
            (pycurl.ACCEPT_ENCODING, ""),  # decode what the server encoded (gzip...)
            (pycurl.SSLVERSION, pycurl.SSLVERSION_TLSv1_2),
            (pycurl.SSL_VERIFYPEER, 1),
            (pycurl.SSL_VERIFYHOST, 2),
            (pycurl.CAINFO_BLOB, material.ca_pem),
            (pycurl.HEADERFUNCTION, self.reader.head.extend),
            (pycurl.WRITEFUNCTION, self.reader.write),
            (pycurl.PREREQFUNCTION, self.reader.prerequest),
        ):
            handle.setopt(option, value)
        handle.unsetopt(pycurl.CAINFO)  # the bundle libcurl was built with: not trusted
        handle.unsetopt(pycurl.CAPATH)
        tls13 = [cipher["name"] for cipher in ciphers if cipher["protocol"] == "TLSv1.3"]
        older = [cipher["name"] for cipher in ciphers if cipher["protocol"] != "TLSv1.3"]
        if older:
            handle.setopt(pycurl.SSL_CIPHER_LIST, ":".join(older))
        if tls13:
            handle.setopt(pycurl.TLS13_CIPHERS, ":".join(tls13))
        if material.cert_pem is not None:
            handle.setopt(pycurl.SSLCERT_BLOB, material.cert_pem)
            handle.setopt(pycurl.SSLCERTTYPE, "PEM")
            handle.setopt(pycurl.SSLKEY_BLOB, material.key_pem or material.cert_pem)
            handle.setopt(pycurl.SSLKEYTYPE, "PEM")
            if material.key_password:
                handle.setopt(pycurl.KEYPASSWD, material.key_password)


class CurlTransport:
    """Exchanges over at most ``max_connections`` kept-alive connections; thread-safe."""

    def __init__(
        self, material: ClientMaterial, ciphers: Iterable[Mapping[str, Any]], max_connections: int
    ) -> None:
        self._material = material
        self._ciphers = list(ciphers)
        self._size = max(1, max_connections)
        self._free: list[_Connection] = []
        self._made = 0
        self._closed = False
        self._ready = threading.Condition()

    def close(self) -> None:
        """Close every idle connection; those in use close when their exchange ends."""
        with self._ready:
            self._closed = True
            idle, self._free = self._free, []
        for connection in idle:
            connection.handle.close()

    def exchange(
        self,
        method: str,
        url: str,
        content: bytes,
        headers: list[str],
        *,
        deadline: float,
        connect: float,
        cap: int,
    ) -> tuple[int, dict[str, str], bytes]:
        """``method`` on ``url`` with ``content`` and the header lines ``headers``, ended
        by ``deadline`` (``time.monotonic()``); ``(status, headers, body)``. Raises
        ``TimeoutError``, ``ssl.SSLCertVerificationError``, :class:`CurlFailure` or
        :class:`CapExceeded`."""
        connection = self._take(deadline)
        handle, reader = connection.handle, connection.reader
        try:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the call's deadline has passed")
            reader.reset(cap)
            handle.setopt(pycurl.URL, url)
            if content or method in ("POST", "PUT", "PATCH"):
                handle.setopt(pycurl.POSTFIELDS, content)
            else:
                handle.setopt(pycurl.HTTPGET, 1)
            handle.setopt(pycurl.CUSTOMREQUEST, method)
            handle.setopt(pycurl.HTTPHEADER, headers)
            handle.setopt(pycurl.TIMEOUT_MS, max(1, int(left * 1000)))
            handle.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(min(connect, left) * 1000)))
            handle.setopt(pycurl.MAXFILESIZE_LARGE, cap)
            handle.setopt(pycurl.FRESH_CONNECT, _stale(handle))
            try:
                handle.perform()
            except pycurl.error as error:
                if reader.over or error.args[0] == pycurl.E_FILESIZE_EXCEEDED:
                    raise CapExceeded() from None
                if reader.broken:
                    raise CurlFailure(error.args[0], _BROKEN) from None
                raise _failure(error) from None
            status = handle.getinfo(pycurl.RESPONSE_CODE)
            answer = status, reader.headers(), bytes(reader.body)
        finally:
            reader.reset(0)  # the pooled handle holds no answer
            self._give(connection)
        return answer

    def _take(self, deadline: float) -> _Connection:
        with self._ready:
            while not self._free and self._made >= self._size:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no connection free before the call's deadline")
                self._ready.wait(left)
            if self._free:
                return self._free.pop()
            self._made += 1
        try:
            return _Connection(self._material, self._ciphers)
        except BaseException:
            with self._ready:
                self._made -= 1
                self._ready.notify()
            raise

    def _give(self, connection: _Connection) -> None:
        with self._ready:
            if not self._closed:
                self._free.append(connection)
                self._ready.notify()
                return
            self._made -= 1
        connection.handle.close()
