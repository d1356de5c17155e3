"""Fixtures of the segur-dmp tests: a test PKI, the sandbox DMP over mutual TLS, and a
client for the test structure."""

from __future__ import annotations

import pytest
from segur_dmp.testing import STRUCTURE, make_client

from segur_core.testing.pki import TestPKI


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("dmp-pki"))


@pytest.fixture(scope="session")
def credential(pki: TestPKI):
    from segur_dmp.connection import structure_credential

    return structure_credential(pki, STRUCTURE)


@pytest.fixture(scope="session")
def sandbox(pki: TestPKI):
    from segur_dmp.sandbox import DMPSandbox

    box = DMPSandbox(pki=pki)
    box.start()
    yield box
    box.stop()


@pytest.fixture
def dmp(sandbox):
    """The sandbox, with faults cleared."""
    sandbox.faults.clear()
    sandbox.app.lose_reply_ratio = 0.0
    return sandbox


@pytest.fixture
def client(pki, credential, dmp):
    with make_client(pki, credential, dmp.url) as c:
        yield c
