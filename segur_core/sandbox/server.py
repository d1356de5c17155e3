"""Run an ASGI app under uvicorn with mutual TLS on loopback, in a background thread.

uvicorn does not expose the peer certificate to the application. :class:`_TLSH11Protocol`
(a subclass of uvicorn's h11 protocol) fills the ASGI TLS extension
(``scope["extensions"]["tls"]``, https://asgi.readthedocs.io/en/latest/extensions.html#tls)
from the connection's ``ssl_object`` once the handshake is done, and also places the
transport under ``scope["extensions"]["segur.transport"]`` so that fault injection can
reset a connection abruptly. :func:`peer_certificate` reads the verified client
certificate back as a ``cryptography`` object.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509

from segur_core.errors import SegurError
from segur_core.tls import server_context

__all__ = ["ServerTLS", "ServerThread", "peer_certificate"]

log = logging.getLogger(__name__)

ASGIApp = Callable[..., Any]

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
_PEER_KEY = "segur.peer_certificate"


@attrs.frozen
class ServerTLS:
    """The server side of mutual TLS: its certificate and the CA bundle clients chain to."""

    cert_path: Path
    key_path: Path
    ca_bundle: Path | None
    require_client_cert: bool = True

    @classmethod
    def from_pki(cls, pki: Any, *, require_client_cert: bool = True) -> ServerTLS:
        """Use the loopback server certificate of a :class:`~segur_core.sandbox.pki.TestPKI`."""
        return cls(pki.server_cert, pki.server_key, pki.ca_bundle, require_client_cert)

    def context(self) -> ssl.SSLContext:
        return server_context(
            self.cert_path,
            self.key_path,
            self.ca_bundle,
            require_client_cert=self.require_client_cert,
        )


def peer_certificate(request: Any) -> x509.Certificate | None:
    """The verified client certificate of a request (starlette ``Request`` or ASGI scope),
    or None on plain HTTP or when the client presented none."""
    scope = request if isinstance(request, dict) else request.scope
    tls = scope.get("extensions", {}).get("tls")
    if not tls:
        return None
    cached = tls.get(_PEER_KEY)
    if cached is not None:
        return cached
    chain = tls.get("client_cert_chain") or ()
    if not chain:
        return None
    cert = x509.load_pem_x509_certificate(chain[0].encode("ascii"))
    tls[_PEER_KEY] = cert
    return cert


def _tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any]:
    der = ssl_object.getpeercert(binary_form=True)
    chain: list[str] = []
    name = None
    if der:
        chain.append(ssl.DER_cert_to_PEM_cert(der))
        name = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": name,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
    }


class _WithExtensions:
    """Adds per-connection extensions to each HTTP/WebSocket scope."""

    def __init__(self, app: ASGIApp, extensions: dict[str, Any]) -> None:
        self.app = app
        self.extensions = extensions

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            tls = self.extensions.get("tls")
            added = dict(self.extensions)
            if tls is not None:
                added["tls"] = dict(tls)  # a copy per request: handlers may cache in it
            scope = {**scope, "extensions": {**scope.get("extensions", {}), **added}}
        await self.app(scope, receive, send)


def bind_tcp(host: str, port: int, *, hint: str) -> socket.socket:
    """A TCP socket bound to ``host:port`` (IPv4 or IPv6), ready for uvicorn; a port
    that cannot be taken is a :class:`SegurError` with ``hint``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Answers go out as several small writes; without TCP_NODELAY each one waits for
    # the client's delayed ACK (~40 ms per request on Linux). Accepted connections
    # inherit the option from the listening socket.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise SegurError(
            f"cannot listen on {host}:{port}: {error.strerror or error}", hint=hint
        ) from None
    return sock


def _protocol_class(parser: str = "h11") -> type:
    """uvicorn's HTTP protocol (``h11``, pure Python, or ``httptools``, the C parser
    ``segur serve`` takes when installed) with the connection's extensions added to
    each request."""
    base: type
    if parser == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base = HttpToolsProtocol
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol

    class _TLSH11Protocol(base):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            extensions: dict[str, Any] = {"segur.transport": transport}
            ssl_object = transport.get_extra_info("ssl_object")
            if ssl_object is not None:
                extensions["tls"] = _tls_extension(ssl_object)
            self.app = _WithExtensions(self.app, extensions)  # type: ignore[has-type]

    return _TLSH11Protocol


def _quiet_ssl_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Refused handshakes are expected in a mutual TLS server: log them at debug level."""
    error = context.get("exception")
    if isinstance(error, ssl.SSLError | ConnectionError):
        log.debug("TLS connection refused: %s", error)
        return
    loop.default_exception_handler(context)


class _IdleShutdownFilter(logging.Filter):
    """Drop uvicorn's shutdown notice when no request was running: at ``stop()`` an idle
    keep-alive connection of a client that is still open only delays the shutdown."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.msg.startswith("Cancel %s running task(s)") and record.args == (0,)
        )


logging.getLogger("uvicorn.error").addFilter(_IdleShutdownFilter())


class ServerThread:
    """Serve ``app`` on ``host:port`` (0: a free port) in a thread with its own event loop.

    ``start()`` returns once the server accepts connections; ``url`` is then its base URL
    (``https://127.0.0.1:PORT`` with TLS). Use as a context manager to stop it reliably.
    ``parser``: uvicorn's HTTP protocol, ``h11`` or ``httptools``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        tls: ServerTLS | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        graceful_timeout: float = 1.0,
        parser: str = "h11",
    ) -> None:
        self.app = app
        self.parser = parser
        self.tls = tls
        self.host = host
        self.port = port
        self.graceful_timeout = graceful_timeout
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        if self._socket is None:
            raise SegurError("the server is not started", hint="call start() first")
        scheme = "https" if self.tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> None:
        import uvicorn

        if self.running:
            return
        ssl_context = self.tls.context() if self.tls is not None else None
        sock = bind_tcp(
            self.host, self.port, hint="choose another port or use port 0 for a free one"
        )
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            http=_protocol_class(self.parser),
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            lifespan="auto",
            timeout_graceful_shutdown=math.ceil(self.graceful_timeout),
            ssl_context_factory=(lambda _config, _default: ssl_context) if ssl_context else None,
        )
        self._server = uvicorn.Server(config)
        self._error = None
        self._thread = threading.Thread(
            target=self._run, name=f"segur-server-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise SegurError(
                    f"the server on port {self.port} did not start: {self._error!r}"
                ) from self._error
            time.sleep(0.005)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_quiet_ssl_errors)
        try:
            loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        except BaseException as error:  # startup failure (uvicorn calls sys.exit)
            self._error = error
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
            self._thread = None
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
