"""Every call to a national service ends by its total deadline, whatever the server does.

A server that drips its answer one byte every half second never trips a per-read
timeout; the call's deadline (``timeout``) must end the call anyway.
"""

from __future__ import annotations

import time

import pytest

from segur_core.errors import RemoteServiceError
from segur_core.sandbox.pki import TestPKI
from segur_core.testing.rogue import RogueServer

from .national_clients import CLIENTS

DEADLINE = 2.0
#: How late past its deadline a call may end (thread scheduling on a loaded machine).
MARGIN = 2.0


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"))


@pytest.mark.parametrize("service", sorted(CLIENTS))
def test_a_dripping_server_cannot_hold_a_call_past_its_deadline(pki, service):
    make, call = CLIENTS[service]
    with RogueServer(pki.server_cert, pki.server_key, "drip", interval=0.5, duration=20) as server:
        client = make(pki, server.url, timeout=DEADLINE)
        started = time.monotonic()
        with pytest.raises(RemoteServiceError) as caught:
            call(client)
        elapsed = time.monotonic() - started
        client.close()
    assert elapsed < DEADLINE + MARGIN, f"{service} call lasted {elapsed:.1f} s"
    assert caught.value.code == "timeout" and caught.value.transient
