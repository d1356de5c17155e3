"""Run the service (:mod:`segur_core.serve.http11`: one thread per connection) until a
signal stops it, or in background threads (:func:`running`: the demo, the tests).

The listening socket is made here: a Unix socket is created 0600 and a stale one left by
a crash is replaced, while a live one is refused; a TCP socket gets ``TCP_NODELAY`` and
may be port 0 (a free port, printed).
SIGTERM or Ctrl-C stop accepting connections, let the calls under way finish (at most
``grace_seconds``), then the caller closes the runtime: the outbox worker finishes the
delivery in flight and nothing is left half-sent.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segur_core.errors import ConfigError, SegurError
from segur_core.serve.settings import ServeSettings
from segur_core.signals import stop_event

if TYPE_CHECKING:
    from segur_core.runtime import Runtime
    from segur_core.serve.app import ServiceApp

__all__ = ["Running", "bind", "running", "serve", "start"]


def bind(settings: ServeSettings) -> tuple[socket.socket, str]:
    """The listening socket the settings describe (not listening yet), and the URL a
    client uses."""
    if settings.socket is not None:
        return _bind_unix(settings.socket), f"unix:{settings.socket}"
    from segur_core.sandbox.server import bind_tcp

    sock = bind_tcp(
        settings.host, settings.port, hint="choose another --port, or --port 0 for a free one"
    )
    port = sock.getsockname()[1]
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    scheme = "https" if settings.tls is not None else "http"
    return sock, f"{scheme}://{host}:{port}"


def _bind_unix(path: Path) -> socket.socket:
    if not path.parent.is_dir():
        raise ConfigError(f"no directory {path.parent} for the socket", key="segur.serve.socket")
    if path.exists() or path.is_symlink():
        if not path.is_socket():
            raise ConfigError(f"{path} exists and is not a socket", key="segur.serve.socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError as error:
            if error.errno not in (errno.ECONNREFUSED, errno.ENOENT):
                raise
            path.unlink(missing_ok=True)  # left by a service that stopped without cleaning
        else:
            raise SegurError(
                f"a service already listens on {path}", hint="stop it, or choose another --socket"
            )
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    except OSError as error:
        sock.close()
        raise SegurError(f"cannot listen on {path}: {error.strerror or error}") from None
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return sock


class Running:
    """A service serving in background threads (:func:`running`): its ``url``, its
    ``app``; :meth:`stop` ends it as a signal does."""

    def __init__(self, app: ServiceApp, settings: ServeSettings, server: Any, sock: Any, url: str):
        self.app = app
        self.settings = settings
        self.url = url
        self._server = server
        self._sock = sock
        self._stopped = False

    def stop(self) -> None:
        """Stop accepting, let the calls under way finish (at most ``grace_seconds``),
        then refuse calls; the listening socket is closed (a Unix socket removed)."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._server.stop(self.settings.grace_seconds)
            self.app.stop()
        finally:
            self._sock.close()
            if self.settings.socket is not None:
                with contextlib.suppress(OSError):
                    self.settings.socket.unlink()


def start(app: ServiceApp, settings: ServeSettings) -> Running:
    """Serve ``app`` where ``settings`` say, in background threads (one per connection,
    :mod:`segur_core.serve.http11`), once its warm-ups and outbox worker are started."""
    from segur_core.serve.http11 import HttpServer

    settings.check()
    sock, url = bind(settings)
    try:
        ssl_context = None
        if settings.tls is not None:
            from segur_core.tls import server_context

            tls = settings.tls
            ssl_context = server_context(tls.cert, tls.key, tls.ca_bundle, require_client_cert=True)
        server = HttpServer(
            sock, app.answer, refuse=app.refuse, ssl_context=ssl_context,
            max_body=settings.max_body_bytes,
        )  # fmt: skip
        app.start()
        server.start()
    except BaseException:
        sock.close()
        if settings.socket is not None:
            with contextlib.suppress(OSError):
                settings.socket.unlink()
        raise
    return Running(app, settings, server, sock, url)


@contextlib.contextmanager
def running(app: ServiceApp, settings: ServeSettings) -> Iterator[Running]:
    """:func:`start`, and :meth:`Running.stop` on the way out (the demo, the tests)."""
    served = start(app, settings)
    try:
        yield served
    finally:
        served.stop()


def serve(
    runtime: Runtime,
    settings: ServeSettings,
    *,
    on_listening: Callable[[str], object] | None = None,
    app: ServiceApp | None = None,
) -> None:
    """Serve ``runtime`` until SIGINT/SIGTERM; ``on_listening(url)`` is called once the
    socket accepts connections. The caller closes the runtime afterwards."""
    from segur_core.serve.app import create_app

    app = app if app is not None else create_app(runtime, settings)
    with stop_event(signal.SIGINT, signal.SIGTERM) as stop:
        served = start(app, settings)
        try:
            if on_listening is not None:
                on_listening(served.url)
            while not stop.wait(1.0):
                pass
        finally:
            served.stop()
