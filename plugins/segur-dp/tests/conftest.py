"""Fixtures of the segur-dp tests: a test PKI, the sandbox DP over mutual TLS, and the
HTTPS adapter presenting the test structure certificate."""

from __future__ import annotations

import pytest

from segur_core.testing.pki import TestPKI


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("dp-pki"))


@pytest.fixture(scope="session")
def sandbox(pki: TestPKI):
    from segur_dp.sandbox import DPSandbox

    box = DPSandbox(pki=pki)
    box.start()
    yield box
    box.stop()


@pytest.fixture
def dp(sandbox):
    """The sandbox, with faults cleared."""
    sandbox.faults.clear()
    return sandbox


@pytest.fixture
def adapter(dp):
    from segur_dp.https import HttpsAdapter

    with HttpsAdapter(dp.url, ssl_context=dp.client_context(), timeout=5.0) as a:
        yield a
