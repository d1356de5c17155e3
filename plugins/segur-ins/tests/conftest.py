"""Fixtures of segur-ins's tests: the test PKI, a running INSi sandbox, TLS contexts,
and the official INSi files of ``../shared/insi`` (tests skip when they are absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from segur_ins.config import SANDBOX_SOFTWARE_ID
from segur_ins.insi import InsiClient, SoftwareContext

SHARED_INSI = Path(__file__).resolve().parents[3] / ".." / "shared" / "insi"


@pytest.fixture(scope="session")
def insi_dir() -> Path:
    if not (SHARED_INSI / "wsdl" / "xsd").is_dir():
        pytest.skip(f"the official INSi files are not in {SHARED_INSI.resolve()}")
    return SHARED_INSI.resolve()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory):
    from segur_core.testing.pki import TestPKI

    return TestPKI.create(tmp_path_factory.mktemp("ins-pki"))


@pytest.fixture(scope="session")
def tls_for(pki):
    from segur_core.tls import client_context

    made = {}

    def context(name: str = "insi-auto"):
        if name not in made:
            credential = pki.client(name)
            made[name] = client_context(
                ca_bundle=pki.ca_bundle,
                pkcs12=credential.p12_path,
                password=credential.p12_password,
            )
        return made[name]

    return context


@pytest.fixture(scope="session")
def insi_sandbox(pki):
    from segur_ins.sandbox import InsiSandbox

    sandbox = InsiSandbox(pki=pki)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(insi_sandbox):
    """The session sandbox with no fault armed before and after the test."""
    insi_sandbox.faults.clear()
    yield insi_sandbox
    insi_sandbox.faults.clear()


@pytest.fixture
def make_client(sandbox, tls_for):
    clients: list[InsiClient] = []

    def make(credential: str = "insi-auto", *, idam: str = SANDBOX_SOFTWARE_ID, **kwargs):
        kwargs.setdefault("backoff", 0.01)
        client = InsiClient(
            sandbox.url, SoftwareContext(idam=idam), ssl_context=tls_for(credential), **kwargs
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
