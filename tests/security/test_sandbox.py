"""Mutual TLS over loopback with the sandbox server, peer certificates, fault injection."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from segur_core.errors import SegurError
from segur_core.sandbox import FaultInjector, Sandbox, ServerThread, ServerTLS, peer_certificate
from segur_core.testing.pki import Credential, TestPKI
from segur_core.tls import client_context


class EchoSandbox(Sandbox):
    """Answers the CN of the verified client certificate and counts requests."""

    name = "echo"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.handled = 0

    def build_app(self) -> Starlette:
        async def whoami(request: Request) -> PlainTextResponse:
            self.handled += 1
            cert = peer_certificate(request)
            if cert is None:
                return PlainTextResponse("anonymous")
            cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
            return PlainTextResponse(str(cn))

        return Starlette(routes=[Route("/whoami", whoami)])


@pytest.fixture(scope="module")
def sandbox(pki: TestPKI) -> Iterator[EchoSandbox]:
    with EchoSandbox(pki=pki, faults=FaultInjector(seed=7)) as running:
        yield running


@pytest.fixture(autouse=True)
def _clear_faults(request: pytest.FixtureRequest) -> None:
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").faults.clear()


def _client(pki: TestPKI, credential: Credential | None, **kwargs) -> httpx.Client:
    if credential is None:
        context = client_context(ca_bundle=pki.ca_bundle)
    else:
        context = client_context(
            ca_bundle=pki.ca_bundle,
            pkcs12=credential.p12_path,
            password=credential.p12_password,
            check_validity=False,  # let the server be the one refusing
        )
    return httpx.Client(verify=context, **kwargs)


@pytest.mark.parametrize("name", ["insi-auto", "insi-manu", "structure", "cps"])
def test_valid_client_gets_through_and_handler_sees_its_cn(
    pki: TestPKI, sandbox: EchoSandbox, name: str
) -> None:
    credential = pki.client(name)
    with _client(pki, credential) as client:
        response = client.get(f"{sandbox.url}/whoami")
    assert response.status_code == 200
    assert response.text == credential.subject_cn


@pytest.mark.parametrize("name", [None, "expired", "not-yet-valid", "foreign"])
def test_refused_clients(pki: TestPKI, sandbox: EchoSandbox, name: str | None) -> None:
    before = sandbox.handled
    credential = pki.client(name) if name else None
    with _client(pki, credential) as client, pytest.raises(httpx.TransportError):
        client.get(f"{sandbox.url}/whoami")
    assert sandbox.handled == before


def test_client_refuses_a_server_outside_its_ca_bundle(pki: TestPKI, sandbox: EchoSandbox) -> None:
    credential = pki.client("insi-auto")
    context = client_context(
        ca_bundle=pki.foreign_ca, pkcs12=credential.p12_path, password=credential.p12_password
    )
    with httpx.Client(verify=context) as client, pytest.raises(httpx.ConnectError):
        client.get(f"{sandbox.url}/whoami")


def test_client_checks_the_host_name(pki: TestPKI, sandbox: EchoSandbox) -> None:
    credential = pki.client("insi-auto")
    context = client_context(
        ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
    )
    port = int(sandbox.url.rsplit(":", 1)[1])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        pytest.raises(ssl.SSLCertVerificationError, match="mismatch"),
    ):
        context.wrap_socket(raw, server_hostname="not-this-server.example")
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_plain_http_is_not_served(sandbox: EchoSandbox) -> None:
    with httpx.Client() as client, pytest.raises(httpx.TransportError):
        client.get(sandbox.url.replace("https://", "http://") + "/whoami")


def test_injected_errors_are_seeded(pki: TestPKI, sandbox: EchoSandbox) -> None:
    def run() -> list[int]:
        sandbox.faults.clear()
        sandbox.faults._random.seed(42)
        sandbox.faults.fail(0.5, status=502)
        with _client(pki, pki.client("insi-auto")) as client:
            return [client.get(f"{sandbox.url}/whoami").status_code for _ in range(12)]

    first = run()
    assert set(first) == {200, 502}
    assert run() == first


def test_fail_next_then_recover(pki: TestPKI, sandbox: EchoSandbox) -> None:
    sandbox.faults.fail_next(2, status=503)
    with _client(pki, pki.client("insi-auto")) as client:
        codes = [client.get(f"{sandbox.url}/whoami").status_code for _ in range(3)]
    assert codes == [503, 503, 200]


def test_connection_reset(pki: TestPKI, sandbox: EchoSandbox) -> None:
    sandbox.faults.reset_next()
    with _client(pki, pki.client("insi-auto")) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"{sandbox.url}/whoami")
        assert client.get(f"{sandbox.url}/whoami").status_code == 200
    assert sandbox.faults.counts["reset"] == 1


def test_hang_beyond_client_timeout(pki: TestPKI, sandbox: EchoSandbox) -> None:
    sandbox.faults.hang_next(seconds=5)
    with _client(pki, pki.client("insi-auto"), timeout=0.3) as client:
        start = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"{sandbox.url}/whoami")
        assert time.monotonic() - start < 5  # the client gave up; the server did not answer


def test_delay(pki: TestPKI, sandbox: EchoSandbox) -> None:
    sandbox.faults.set_delay(0.2)
    with _client(pki, pki.client("insi-auto")) as client:
        start = time.monotonic()
        assert client.get(f"{sandbox.url}/whoami").status_code == 200
        assert time.monotonic() - start >= 0.2


def test_down_window(pki: TestPKI, sandbox: EchoSandbox) -> None:
    sandbox.faults.down()
    with _client(pki, pki.client("insi-auto")) as client:
        assert client.get(f"{sandbox.url}/whoami").status_code == 503
        assert client.get(f"{sandbox.url}/whoami").status_code == 503
        sandbox.faults.up()
        assert client.get(f"{sandbox.url}/whoami").status_code == 200


def test_down_window_ends_by_itself() -> None:
    injector = FaultInjector()
    injector.down(0.05)
    assert injector.decide().kind == "down"
    time.sleep(0.06)
    assert injector.decide().kind == "none"


def test_fault_injector_is_deterministic_for_a_seed() -> None:
    def kinds(seed: int) -> list[str]:
        injector = FaultInjector(seed=seed, error_ratio=0.3, reset_ratio=0.2, hang_ratio=0.1)
        return [injector.decide().kind for _ in range(200)]

    assert kinds(1) == kinds(1)
    assert kinds(1) != kinds(2)
    counted = kinds(3)
    assert 30 < counted.count("error") < 90
    assert 15 < counted.count("reset") < 65


def test_server_thread_plain_http_and_restart(tmp_path: Path) -> None:
    async def app(scope, receive, send):
        assert scope["type"] in ("http", "lifespan")
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    server = ServerThread(app)
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        assert httpx.get(server.url).status_code == 204
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, timeout=1)
    url = server.url
    with server:  # restarts on the same port, so configured URLs stay valid
        assert server.url == url
        assert httpx.get(server.url).status_code == 204


def test_sandbox_client_context(sandbox: EchoSandbox) -> None:
    with httpx.Client(verify=sandbox.client_context("cps")) as client:
        assert client.get(f"{sandbox.url}/whoami").text.startswith("8")


def test_sandbox_lifecycle(pki: TestPKI) -> None:
    box = EchoSandbox(pki=pki)
    with pytest.raises(SegurError, match="not started"):
        _ = box.url
    box.start()
    try:
        assert box.running and box.url.startswith("https://127.0.0.1:")
        box.start()  # idempotent
    finally:
        box.stop()
    assert not box.running
    with pytest.raises(NotImplementedError):
        Sandbox().start()


def test_server_tls_from_pki(pki: TestPKI) -> None:
    tls = ServerTLS.from_pki(pki)
    assert tls.ca_bundle == pki.ca_bundle
    assert tls.require_client_cert


def test_fault_injector_is_thread_safe() -> None:
    injector = FaultInjector(seed=5)
    injector.fail_next(1000)
    kinds: list[str] = []

    def worker() -> None:
        local = [injector.decide().kind for _ in range(250)]
        kinds.extend(local)

    import threading

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert kinds.count("error") == 1000  # each forced fault consumed exactly once
    assert kinds.count("none") == 1000
    assert injector.counts == {"error": 1000, "none": 1000}
