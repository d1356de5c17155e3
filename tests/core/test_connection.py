"""segur_core.connection: endpoint resolution and client TLS shared by the service plugins.

The TLS tests make a real mutual-TLS handshake on loopback against a server certified by
the test PKI and check which client certificate was presented.
"""

from __future__ import annotations

import socket
import ssl
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segur_core.connection import SANDBOX, ClientTls, client_tls, resolve_endpoint
from segur_core.errors import ConfigError
from segur_core.secrets import Secret, reveal
from segur_core.testing.pki import TestPKI
from segur_core.tls import server_context


class _Runtime:
    """Just what the helpers read from a runtime: the mode, the test PKI, sandboxes."""

    def __init__(self, mode: str, pki: TestPKI | None = None) -> None:
        self.config = SimpleNamespace(mode=mode)
        self._pki = pki
        self.sandboxes_asked: list[str] = []

    def test_pki(self) -> TestPKI:
        assert self._pki is not None, "the test PKI must not be used in production"
        return self._pki

    def sandbox(self, name: str) -> Any:
        self.sandboxes_asked.append(name)
        return SimpleNamespace(url=f"https://127.0.0.1:4430/{name}")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"))


def _presented_cn(pki: TestPKI, context: ssl.SSLContext) -> str:
    """Handshake with a mutual-TLS server of the test PKI; the client certificate's CN."""
    server = server_context(pki.server_cert, pki.server_key, pki.ca_bundle)
    seen: dict[str, Any] = {}
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            try:
                with server.wrap_socket(conn, server_side=True) as tls:
                    seen["peer"] = tls.getpeercert()
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError) as error:
                seen["error"] = error

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.recv(2) == b"ok"
        thread.join(5)
    assert "error" not in seen, seen.get("error")
    subject = dict(item for rdn in seen["peer"]["subject"] for item in rdn)
    return subject["commonName"]


# -- resolve_endpoint ----------------------------------------------------------------------


def test_sandbox_resolves_to_the_runtime_sandbox():
    runtime = _Runtime("test")
    url = resolve_endpoint(SANDBOX, runtime, sandbox="insi", key="ins.endpoint", service="INSi")
    assert url == "https://127.0.0.1:4430/insi" and runtime.sandboxes_asked == ["insi"]


def test_sandbox_is_refused_in_production_naming_the_key():
    runtime = _Runtime("production")
    with pytest.raises(ConfigError) as caught:
        resolve_endpoint(
            SANDBOX, runtime, sandbox="dmp", key="dmp.endpoint", service="DMP", hint="set it"
        )
    assert caught.value.key == "dmp.endpoint" and caught.value.hint == "set it"
    assert "DMP sandbox" in str(caught.value) and runtime.sandboxes_asked == []


@pytest.mark.parametrize("mode", ["test", "production"])
def test_https_urls_pass_through(mode):
    url = "https://insi.example.invalid/lps"
    assert resolve_endpoint(url, _Runtime(mode), sandbox="x", key="k.e", service="X") == url


@given(st.text(max_size=40).filter(lambda s: s != SANDBOX and not s.startswith("https://")))
def test_anything_else_is_a_config_error(value):
    with pytest.raises(ConfigError) as caught:
        resolve_endpoint(value, _Runtime("test"), sandbox="x", key="x.endpoint", service="X")
    assert caught.value.key == "x.endpoint"


# -- reveal --------------------------------------------------------------------------------


@given(st.text())
def test_reveal_gives_the_value_of_a_secret_or_a_string(value):
    assert reveal(Secret(value)) == value
    assert reveal(value) == value


def test_reveal_keeps_an_absent_secret_absent():
    assert reveal(None) is None


# -- client_tls ----------------------------------------------------------------------------


def test_test_pki_default_as_pkcs12(pki):
    runtime = _Runtime("test", pki)
    context = client_tls(
        ClientTls(), runtime, key="x.tls",
        default_credential=lambda p: p.client("insi-auto"),
    )  # fmt: skip
    assert _presented_cn(pki, context) == pki.client("insi-auto").subject_cn


def test_test_pki_default_as_pem(pki):
    runtime = _Runtime("test", pki)
    context = client_tls(
        ClientTls(), runtime, key="x.tls",
        default_credential=lambda p: p.client("cps"), default_form="pem",
    )  # fmt: skip
    assert _presented_cn(pki, context) == pki.client("cps").subject_cn


def test_configured_pkcs12_wins_over_the_pem_pair_and_the_default(pki):
    chosen, other = pki.client("structure"), pki.client("insi-auto")
    section = ClientTls(
        ca_bundle=pki.ca_bundle,
        client_pkcs12=chosen.p12_path,
        client_password=Secret(chosen.p12_password),
        client_cert=other.cert_path,
        client_key=other.key_path,
    )
    context = client_tls(
        section, _Runtime("production"), key="x.tls", default_credential=lambda p: other
    )
    assert _presented_cn(pki, context) == chosen.subject_cn


def test_configured_pem_pair_in_production(pki):
    chosen = pki.client("insi-manu")
    section = ClientTls(
        ca_bundle=pki.ca_bundle, client_cert=chosen.cert_path,
        client_key=chosen.key_path,
    )  # fmt: skip
    context = client_tls(
        section, _Runtime("production"), key="x.tls", default_credential=lambda p: None
    )
    assert _presented_cn(pki, context) == chosen.subject_cn


def test_production_needs_a_ca_bundle_then_a_client_certificate(pki):
    runtime = _Runtime("production")
    with pytest.raises(ConfigError) as caught:
        client_tls(ClientTls(), runtime, key="x.tls", default_credential=lambda p: None)
    assert caught.value.key == "x.tls.ca_bundle"
    with pytest.raises(ConfigError) as caught:
        client_tls(
            ClientTls(ca_bundle=pki.ca_bundle), runtime, key="x.tls",
            default_credential=lambda p: pki.client("structure"),
        )  # fmt: skip
    assert caught.value.key == "x.tls.client_pkcs12"
