"""An answer larger than a client accepts is refused while it streams, never held whole.

The flooding server answers 400 MB (chunked: no ``Content-Length`` to refuse it by);
the client must stop at its cap (INSi 50 MB, DMP 64 MB) and its peak memory must grow
by little more than the cap, measured in a child process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from segur_core.sandbox.pki import TestPKI
from segur_core.testing.rogue import RogueServer

from .national_clients import CLIENTS

ANSWER = 400 * 1024 * 1024
#: Peak memory growth allowed for one refused answer (caps: 50 and 64 MB).
BOUND_MB = 200


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"))


@pytest.mark.parametrize("service", sorted(CLIENTS))
def test_a_huge_answer_is_refused_at_the_cap_without_buffering_it(pki, service):
    script = Path(__file__).with_name("answer_size_client.py")
    with RogueServer(pki.server_cert, pki.server_key, "flood", size=ANSWER) as server:
        done = subprocess.run(
            [sys.executable, str(script), service, server.url, str(pki.directory)],
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["error"] is not None, outcome  # refused, not parsed as an answer
    assert outcome["growth_mb"] < BOUND_MB, outcome
    assert outcome["code"] == "too-large", outcome
