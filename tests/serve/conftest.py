"""Fixtures of the service tests: the service's own server over a runtime, and its client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from segur_core.secrets import Secret
from segur_core.serve import ServeClient, ServeSettings, create_app
from segur_core.serve.server import Running, start

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def served(make_segur_runtime) -> Iterator[Callable[..., tuple[Any, ServeClient]]]:
    """``served(runtime=None, settings=None, routes=())`` starts the service on loopback
    (the server ``segur serve`` runs, a free port; mutual TLS when the settings say so)
    and returns ``(app, client)``; the client carries the token."""
    servers: list[Running] = []
    clients: list[ServeClient] = []

    def begin(runtime=None, settings=None, routes=()):
        runtime = runtime if runtime is not None else make_segur_runtime()
        settings = settings or ServeSettings(token=Secret(TOKEN), warm=False, outbox_worker=False)
        if settings.socket is None:
            settings = attrs.evolve(settings, port=0)
        app = create_app(runtime, settings, routes=routes)
        server = start(app, settings)
        servers.append(server)
        token = settings.token.reveal() if settings.token is not None else None
        client = ServeClient(server.url, token=token)
        clients.append(client)
        return app, client

    yield begin
    for client in clients:
        client.close()
    for server in servers:
        server.stop()
