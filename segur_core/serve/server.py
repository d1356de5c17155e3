"""Run the service under uvicorn, in the calling (main) thread, until a signal stops it.

The listening socket is made here, not by uvicorn: a Unix socket is created 0600 (uvicorn
would make it 0666) and a stale one left by a crash is replaced, while a live one is
refused; a TCP socket gets ``TCP_NODELAY`` and may be port 0 (a free port, printed).
SIGTERM or Ctrl-C stop accepting connections, let the calls under way finish (at most
``grace_seconds``), then the caller closes the runtime: the outbox worker finishes the
delivery in flight and nothing is left half-sent.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segur_core.errors import ConfigError, SegurError
from segur_core.serve.settings import ServeSettings

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["bind", "http_parser", "serve"]


def bind(settings: ServeSettings) -> tuple[socket.socket, str]:
    """The listening socket the settings describe, and the URL a client uses."""
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


def http_parser() -> str:
    """httptools (C) when installed, as the ``serve`` extra does: h11 (pure Python) costs
    the service about a third of a millisecond of CPU more per call."""
    import importlib.util

    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


def serve(
    runtime: Runtime,
    settings: ServeSettings,
    *,
    on_listening: Callable[[str], object] | None = None,
    app: Any = None,
) -> None:
    """Serve ``runtime`` until SIGINT/SIGTERM; ``on_listening(url)`` is called once the
    socket accepts connections. The caller closes the runtime afterwards."""
    import uvicorn

    from segur_core.sandbox.server import _protocol_class, _quiet_ssl_errors
    from segur_core.serve.app import create_app

    settings.check()
    app = app if app is not None else create_app(runtime, settings)
    sock, url = bind(settings)
    ssl_context = None
    if settings.tls is not None:
        from segur_core.tls import server_context

        tls = settings.tls
        ssl_context = server_context(tls.cert, tls.key, tls.ca_bundle, require_client_cert=True)
    config = uvicorn.Config(
        app,
        http=_protocol_class(http_parser()),
        log_config=None,
        log_level="warning",
        access_log=False,  # every call is journaled; an access log would hold patient paths
        proxy_headers=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=max(1, math.ceil(settings.grace_seconds)),
        ssl_context_factory=(lambda _config, _default: ssl_context) if ssl_context else None,
    )

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Any:
            # uvicorn's own re-raises the signal once shut down, which would kill the
            # process before the runtime closes (outbox worker, journal): handle it, and
            # return normally instead.
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

        async def startup(self, sockets: Any = None) -> None:
            import asyncio

            asyncio.get_running_loop().set_exception_handler(_quiet_ssl_errors)
            await super().startup(sockets=sockets)
            if self.started and on_listening is not None:
                on_listening(url)

    try:
        _Server(config).run(sockets=[sock])
    finally:
        sock.close()
        if settings.socket is not None:
            with contextlib.suppress(OSError):
                settings.socket.unlink()
