"""Base class for the sandboxes plugins ship (local peers of national services)."""

from __future__ import annotations

import ssl
from typing import Any

from segur_core.errors import SegurError
from segur_core.sandbox.faults import FaultInjector
from segur_core.sandbox.server import ServerThread, ServerTLS
from segur_core.sandbox.transcript import Transcript
from segur_core.tls import client_context

__all__ = ["Sandbox"]


class Sandbox:
    """A loopback HTTPS peer implementing the :class:`segur_core.plugin.Sandbox` protocol.

    Subclasses set ``name`` and implement :meth:`build_app` (an ASGI app, usually
    starlette). Every request first goes through ``faults`` (a :class:`FaultInjector`).
    Give a ``pki`` (:class:`~segur_core.sandbox.pki.TestPKI`) for mutual TLS with the test
    PKI, or an explicit ``tls``; with neither the sandbox serves plain HTTP.
    """

    name: str = "sandbox"

    def __init__(
        self,
        *,
        pki: Any = None,
        tls: ServerTLS | None = None,
        faults: FaultInjector | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if tls is None and pki is not None:
            tls = ServerTLS.from_pki(pki)
        self.pki = pki
        self.tls = tls
        self.faults = faults if faults is not None else FaultInjector()
        self.host = host
        self.port = port
        #: set before :meth:`start` to record every exchange (``segur demo --out``)
        self.transcript: Transcript | None = None
        self._server: ServerThread | None = None

    def build_app(self) -> Any:
        """The ASGI application of this sandbox."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_app()")

    @property
    def url(self) -> str:
        if self._server is None:
            raise SegurError(f"sandbox {self.name!r} is not started", hint="call start() first")
        return self._server.url

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    def client_context(self, credential: str = "structure") -> ssl.SSLContext:
        """A client ``SSLContext`` trusting this sandbox and presenting the test PKI's
        ``credential`` (``structure``, ``insi-auto``, ``cps``...), for tests and the demo."""
        if self.pki is None:
            raise SegurError(
                f"sandbox {self.name!r} has no test PKI", hint="create it with pki=TestPKI..."
            )
        chosen = self.pki.client(credential)
        return client_context(
            ca_bundle=self.pki.ca_bundle, pkcs12=chosen.p12_path, password=chosen.p12_password
        )

    def start(self) -> None:
        if self.running:
            return
        _require_servers(self.name)
        app = self.faults.middleware(self.build_app())
        if self.transcript is not None:  # outermost: what the client saw, faults included
            app = self.transcript.middleware(app)
        server = ServerThread(app, tls=self.tls, host=self.host, port=self.port)
        server.start()
        self._server = server

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


#: What a sandbox needs to run: the ``sandbox`` extra of segur-core (and of each plugin).
SANDBOX_REQUIREMENTS = ("starlette", "uvicorn")


def _require_servers(name: str) -> None:
    """Refuse to start a sandbox without its web stack, saying what to install: the
    sandboxes are an optional extra, never part of a production install."""
    import importlib.util

    missing = [m for m in SANDBOX_REQUIREMENTS if importlib.util.find_spec(m) is None]
    if missing:
        raise SegurError(
            f"sandbox {name!r} cannot start: {' and '.join(missing)} not installed",
            hint="install the sandbox extra of the plugin providing it, "
            "e.g. pip install 'segur-ins[sandbox]'",
        )
