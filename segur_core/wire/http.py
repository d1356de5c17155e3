"""One HTTP call to a national service: a total deadline and a size cap.

With a TLS context made by :func:`segur_core.tls.client_context` (every national-service
connector's), calls go through libcurl (:mod:`segur_core.wire.curl`: about half the
client CPU per request, the same contract). Another context (or none) keeps the
``httpcore`` transport described below.

``httpx`` timeouts bound each socket operation, not the call: a server that drips one
byte every half second keeps a call with a 2 s read timeout alive for as long as it
likes. :class:`HttpCaller` bounds every connect, TLS handshake, write and read of a
call by the time left before the call's deadline (an ``httpcore`` network backend that
reads the deadline from a context variable), so that a call ends within its deadline
whatever the server does.

The answer is read as a stream and refused as soon as it passes ``max_bytes`` (a
``Content-Length`` over the cap is refused before any byte of the body is read): a
400 MB answer never sits in memory. Content encodings the caller asked for (``gzip``...)
are decoded as they stream, so the cap counts decoded bytes.

Failures are typed (:mod:`segur_core.wire.errors`): a deadline passed is
:class:`CallTimeout`, a server certificate that does not verify is
:class:`ServerCertificateError` (permanent, wherever the ``ssl`` error sits in the
exception chain), any other network failure :class:`ServiceUnreachable`.
"""

from __future__ import annotations

import contextvars
import socket
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping

import attrs
import httpcore
import httpx

from segur_core.errors import RemoteServiceError
from segur_core.tls import client_material
from segur_core.wire.curl import CapExceeded, CurlTransport, header_lines
from segur_core.wire.errors import (
    AnswerTooLarge,
    CallTimeout,
    ServerCertificateError,
    ServiceUnreachable,
    certificate_failure,
)

__all__ = ["HTTPX_HEADERS", "Answer", "CallLimits", "HttpCaller"]

#: The headers ``httpx.Client`` sends by default: the connectors that were built on it
#: (DMP, ApCV) keep sending them, so that their requests stay byte for byte the same.
HTTPX_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",
    "Connection": "keep-alive",
    "User-Agent": f"python-httpx/{httpx.__version__}",
}

#: When the call running in this thread (or task) must end, as ``time.monotonic()``.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "segur_wire_deadline", default=None
)
#: Whether the request being written in this thread has a body after its head.
_BODY_FOLLOWS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "segur_wire_body_follows", default=False
)


@attrs.frozen
class CallLimits:
    """How long one call may take in total (``deadline``, seconds, connect to last
    byte), how many bytes the answer may hold, and how long connecting may take within
    the deadline (``None``: 5 s at most). A plain value: worker processes receive it
    pickled."""

    deadline: float = 10.0
    max_bytes: int = 50 * 1024 * 1024
    connect_timeout: float | None = None

    @property
    def connect(self) -> float:
        return min(self.connect_timeout or 5.0, self.deadline)


@attrs.frozen
class Answer:
    """A complete HTTP answer: status, headers (names lower-cased) and body."""

    status: int
    headers: Mapping[str, str]
    content: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def _remaining(timeout: float | None) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the call's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the current call's deadline.

    When the call has a body (:data:`_BODY_FOLLOWS`), the request head is held back
    and written together with the body: one TLS record and one system call instead
    of two, and the server reads the request at once."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        self._head = b""

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._head:
            self._flush(timeout)
        return self._stream.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self._head:
            buffer, self._head = self._head + buffer, b""
        elif buffer.endswith(b"\r\n\r\n") and _BODY_FOLLOWS.get():
            self._head = buffer  # the head of a request whose body comes next
            return
        self._stream.write(buffer, _remaining(timeout))

    def _flush(self, timeout: float | None) -> None:
        head, self._head = self._head, b""
        self._stream.write(head, _remaining(timeout))

    def close(self) -> None:
        self._head = b""
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(ssl_context, server_hostname, _remaining(timeout))
        _remaining(None)  # a handshake dripped past the deadline ends here
        return _DeadlineStream(stream)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self._backend.connect_tcp(
            host, port, _remaining(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover
        return _DeadlineStream(
            self._backend.connect_unix_socket(path, _remaining(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore retries only
        self._backend.sleep(seconds)


class _Body(httpx.SyncByteStream):
    """An httpcore response body as an httpx stream (so that httpx decodes it)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


#: How many parsed URLs a caller keeps (clients post to a few fixed URLs).
_MAX_TARGETS = 64


@attrs.frozen
class _Target:
    """A URL parsed once: httpcore's form of it and its ``Host`` header."""

    url: httpcore.URL
    host: bytes

    @classmethod
    def parse(cls, url: str | httpx.URL) -> _Target:
        parsed = httpx.URL(url)
        core = httpcore.URL(
            scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port,
            target=parsed.raw_path,
        )  # fmt: skip
        return cls(core, parsed.netloc)

    def headers(
        self, given: Mapping[str, str], length: int, method: str = "POST"
    ) -> list[tuple[bytes, bytes]]:
        """``Host`` then :func:`_fields`, as httpcore takes them."""
        raw = [(name.encode("ascii"), value.encode("ascii")) for name, value in
               _fields(given, length, method)]  # fmt: skip
        return [(b"Host", self.host), *raw]


def _fields(given: Mapping[str, str], length: int, method: str) -> list[tuple[str, str]]:
    """The request headers after ``Host`` as ``httpx.Request`` writes them: ``given`` in
    their order, then ``Content-Length`` (right after ``Host`` for an empty body of a
    ``POST``, ``PUT`` or ``PATCH``; none for another method without a body)."""
    fields = list(given.items())
    if length:
        fields.append(("Content-Length", str(length)))
    elif method in ("POST", "PUT", "PATCH"):
        fields.insert(0, ("Content-Length", "0"))
    return fields


def _decoded(core: httpcore.Response) -> Iterator[bytes]:
    """The body of ``core`` decoded by httpx as its ``Content-Encoding`` says."""
    response = httpx.Response(core.status, headers=core.headers, stream=_Body(core.stream))
    return response.iter_bytes()


_NETWORK_ERRORS = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpx.TransportError,
    httpx.DecodingError,
    ssl.SSLError,
    OSError,
)


class HttpCaller:
    """POSTs to one national service over (mutual) TLS, HTTP/1.1, with pooled connections.

    ``service`` names the service in errors (``insi``, ``dmp``...); ``limits`` are the
    default :class:`CallLimits` of a call; ``tls_table`` names where the CA bundle is
    configured (``"dmp.tls"``), for the hint of an untrusted server certificate.
    Thread-safe: one caller serves many threads.
    """

    def __init__(
        self,
        *,
        service: str,
        ssl_context: ssl.SSLContext | None = None,
        limits: CallLimits | None = None,
        max_connections: int = 10,
        tls_table: str | None = None,
    ) -> None:
        self.service = service
        self.limits = limits or CallLimits()
        where = f" ([{tls_table}] ca_bundle)" if tls_table else ""
        self.ca_hint = f"check the CA bundle configured for {service}{where}"
        self._closed = False
        self._targets: dict[str | httpx.URL, _Target] = {}
        material = client_material(ssl_context)
        self._curl: CurlTransport | None = None
        if material is not None and ssl_context is not None:
            self._curl = CurlTransport(material, ssl_context.get_ciphers(), max_connections)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context if ssl_context is not None else ssl.create_default_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            # small SOAP requests: no Nagle delay between the headers and the body
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            network_backend=_DeadlineBackend(),
        )

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def transport(self) -> str:
        """``"libcurl"`` or ``"httpcore"``: what this caller's calls go through."""
        return "httpcore" if self._curl is None else "libcurl"

    def close(self) -> None:
        """Close every pooled connection; the caller is not used again."""
        self._closed = True
        if self._curl is not None:
            self._curl.close()
        self._pool.close()

    def __enter__(self) -> HttpCaller:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def post(
        self,
        url: str | httpx.URL,
        content: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        limits: CallLimits | None = None,
    ) -> Answer:
        """POST ``content`` to ``url`` and return the whole answer, within ``limits``.

        The request carries ``Host``, ``headers`` in their order, then
        ``Content-Length``. Raises :class:`CallTimeout`, :class:`ServiceUnreachable`,
        :class:`ServerCertificateError` or :class:`AnswerTooLarge`.
        """
        return self.request("POST", url, content, headers, limits=limits)

    def request(
        self,
        method: str,
        url: str | httpx.URL,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        limits: CallLimits | None = None,
    ) -> Answer:
        """``method`` (``GET``, ``PUT``...) on ``url`` with the deadline, the size cap and
        the typed failures of :meth:`post`; ``content`` ``None`` sends no body."""
        limits = limits or self.limits
        content = content if content is not None else b""
        if self._curl is not None:
            return self._curl_request(method.upper(), url, content, headers or {}, limits)
        target = self._target(url)
        timeout = {
            "connect": limits.connect,
            "read": limits.deadline,
            "write": limits.deadline,
            "pool": limits.deadline,
        }
        core_request = httpcore.Request(
            method=method.upper().encode("ascii"),
            url=target.url,
            headers=target.headers(headers or {}, len(content), method.upper()),
            content=content,
            extensions={"timeout": timeout},
        )
        token = _DEADLINE.set(time.monotonic() + limits.deadline)
        follows = _BODY_FOLLOWS.set(bool(content))
        try:
            return self._exchange(core_request, limits.max_bytes)
        except RemoteServiceError:
            raise
        except (httpcore.TimeoutException, httpx.TimeoutException) as exc:
            raise self._timeout(limits) from exc
        except _NETWORK_ERRORS as exc:
            raise self._unreachable(exc) from exc
        finally:
            _BODY_FOLLOWS.reset(follows)
            _DEADLINE.reset(token)

    def _curl_request(
        self,
        method: str,
        url: str | httpx.URL,
        content: bytes,
        headers: Mapping[str, str],
        limits: CallLimits,
    ) -> Answer:
        assert self._curl is not None
        try:
            status, fields, body = self._curl.exchange(
                method,
                str(url),
                content,
                header_lines(_fields(headers, len(content), method)),
                deadline=time.monotonic() + limits.deadline,
                connect=limits.connect,
                cap=limits.max_bytes,
            )
        except CapExceeded:
            raise self._too_large(limits.max_bytes) from None
        except TimeoutError as exc:
            raise self._timeout(limits) from exc
        except OSError as exc:
            raise self._unreachable(exc) from exc
        return Answer(status, fields, body)

    def _timeout(self, limits: CallLimits) -> CallTimeout:
        return CallTimeout(
            f"no complete answer within {limits.deadline:g} s",
            service=self.service,
            code="timeout",
        )

    def _unreachable(self, exc: BaseException) -> RemoteServiceError:
        if certificate_failure(exc) is not None:
            return ServerCertificateError(
                "the server certificate is not trusted",
                service=self.service,
                code="tls",
                hint=self.ca_hint,
            )
        return ServiceUnreachable(
            f"cannot reach the service ({type(exc).__name__})",
            service=self.service,
            code="unreachable",
        )

    def _target(self, url: str | httpx.URL) -> _Target:
        """The parsed ``url`` (kept: a client posts to a handful of URLs)."""
        target = self._targets.get(url)
        if target is None:
            target = _Target.parse(url)
            if len(self._targets) < _MAX_TARGETS:
                self._targets[url] = target
        return target

    def _exchange(self, core_request: httpcore.Request, cap: int) -> Answer:
        core = self._pool.handle_request(core_request)
        try:
            headers = {
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in core.headers
            }
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise self._too_large(cap)
            if headers.get("content-encoding", "identity").strip().lower() == "identity":
                chunks: Iterable[bytes] = core.stream  # type: ignore[assignment]
            else:  # httpx decodes what the caller asked for (gzip, deflate...)
                chunks = _decoded(core)
            body = bytearray()
            for chunk in chunks:
                body += chunk
                if len(body) > cap:
                    raise self._too_large(cap)
            return Answer(core.status, headers, bytes(body))
        finally:
            core.close()

    def _too_large(self, cap: int) -> AnswerTooLarge:
        return AnswerTooLarge(
            f"the answer is larger than {cap // (1024 * 1024)} MB; not read further",
            service=self.service,
            code="too-large",
        )
