"""Fixtures of the service tests: a real uvicorn server over a runtime, and its client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from segur_core.sandbox.server import ServerThread
from segur_core.secrets import Secret
from segur_core.serve import ServeClient, ServeSettings, create_app
from segur_core.serve.server import http_parser

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def served(make_segur_runtime) -> Iterator[Callable[..., tuple[Any, ServeClient]]]:
    """``served(runtime=None, settings=None, routes=())`` starts the service on loopback
    (uvicorn with the HTTP parser ``segur serve`` takes, a free port) and returns
    ``(app, client)``; the client carries the token."""
    servers: list[ServerThread] = []
    clients: list[ServeClient] = []

    def start(runtime=None, settings=None, routes=(), **kwargs):
        runtime = runtime if runtime is not None else make_segur_runtime()
        settings = settings or ServeSettings(token=Secret(TOKEN), warm=False, outbox_worker=False)
        app = create_app(runtime, settings, routes=routes)
        server = ServerThread(app, parser=http_parser(), **kwargs)
        server.start()
        servers.append(server)
        token = settings.token.reveal() if settings.token is not None else None
        client = ServeClient(server.url, token=token)
        clients.append(client)
        return app, client

    yield start
    for client in clients:
        client.close()
    for server in servers:
        server.stop()
