"""A server whose certificate does not chain to the configured CA bundle is a permanent
TLS error with a hint, for INSi and DMP alike, never a transient outage to retry.

The ``ssl.SSLCertVerificationError`` sits two levels down the exception chain (httpx
wraps httpcore's error, which wraps ssl's); the clients must find it there.
"""

from __future__ import annotations

import pytest

from segur_core.errors import RemoteServiceError, TLSConfigError
from segur_core.testing.pki import TestPKI
from segur_core.testing.rogue import RogueServer


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """Another PKI: its server certificate is unknown to the clients' CA bundle."""
    return TestPKI.create(tmp_path_factory.mktemp("foreign-pki"))


def _insi(pki, url):
    from segur_ins.config import SANDBOX_SOFTWARE_ID
    from segur_ins.insi import InsiClient, InsiError, SoftwareContext

    from segur_core.tls import client_context

    credential = pki.client("insi-auto")
    context = client_context(
        ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
    )
    client = InsiClient(url, SoftwareContext(idam=SANDBOX_SOFTWARE_ID), ssl_context=context)
    return client, lambda: client.lookup_traits(_traits()), InsiError


def _dmp(pki, url):
    from segur_dmp.testing import KIT_INS, make_client

    client = make_client(pki, pki.client("structure"), url)
    return client, lambda: client.test_access(KIT_INS), RemoteServiceError


def _traits():
    from segur_core.model import BirthDate, IdentityTraits, Sex

    return IdentityTraits("ADRUN", ("ZOE",), Sex.FEMALE, BirthDate(1975, 12, 31))


@pytest.mark.parametrize("make", [_insi, _dmp], ids=["insi", "dmp"])
def test_an_untrusted_server_certificate_is_a_permanent_tls_error(pki, foreign, make):
    with RogueServer(foreign.server_cert, foreign.server_key, "drip", duration=1) as server:
        client, call, family = make(pki, server.url)
        with pytest.raises(family) as caught:
            call()
        client.close()
        connections = server.connections
    error = caught.value
    assert isinstance(error, TLSConfigError), type(error)
    assert error.transient is False and error.code == "tls"
    assert error.hint and "CA bundle" in error.hint
    assert connections == 1  # not retried


def test_the_outbox_takes_an_untrusted_server_as_permanent(pki, foreign):
    """A sender posting with httpx directly: its ``ConnectError`` hides the certificate
    failure two levels down; the outbox must not retry it for hours."""
    import httpx

    from segur_core.outbox import classify
    from segur_core.tls import client_context

    context = client_context(ca_bundle=pki.ca_bundle)
    with (
        RogueServer(foreign.server_cert, foreign.server_key, "drip", duration=1) as server,
        httpx.Client(verify=context) as client,
        pytest.raises(httpx.ConnectError) as caught,
    ):
        client.post(server.url, content=b"x")
    assert classify(caught.value).transient is False
    assert classify(httpx.ConnectError("connection refused")).transient is True
