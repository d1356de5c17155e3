"""The client context with the standard library's mail clients (implicit TLS), and no
plaintext fallback anywhere."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from segur_core.sandbox import ServerThread
from segur_core.testing.pki import TestPKI
from segur_core.tls import client_context, server_context

Reply = Callable[[str], list[str]]


class LineServer:
    """A one-connection-at-a-time TLS line server: a greeting, then canned replies.

    Records the CN of each verified client certificate and each handshake failure."""

    def __init__(self, pki: TestPKI, greeting: str, reply: Reply) -> None:
        self.context = server_context(pki.server_cert, pki.server_key, pki.ca_bundle)
        self.greeting = greeting
        self.reply = reply
        self.peers: list[str] = []
        self.refused: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            with raw:
                raw.settimeout(5)
                try:
                    conn = self.context.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError) as error:
                    self.refused.append(type(error).__name__)
                    continue
                with conn:
                    der = conn.getpeercert(binary_form=True)
                    cert = x509.load_der_x509_certificate(der)
                    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
                    self.peers.append(str(cn))
                    stream = conn.makefile("rwb")
                    stream.write(self.greeting.encode() + b"\r\n")
                    stream.flush()
                    try:
                        for line in stream:
                            answers = self.reply(line.decode().strip())
                            for answer in answers:
                                stream.write(answer.encode() + b"\r\n")
                            stream.flush()
                            if not answers:
                                break
                    except (ssl.SSLError, OSError):
                        pass

    def close(self) -> None:
        self.sock.close()


def _smtp_reply(line: str) -> list[str]:
    verb = line.split(" ", 1)[0].upper()
    if verb in ("EHLO", "HELO"):
        return ["250-sandbox", "250 OK"]
    if verb == "QUIT":
        return ["221 bye"]
    return ["250 OK"]


def _imap_reply(line: str) -> list[str]:
    tag, _, command = line.partition(" ")
    command = command.upper()
    if command.startswith("CAPABILITY"):
        return ["* CAPABILITY IMAP4rev1", f"{tag} OK done"]
    if command.startswith("LOGOUT"):
        return ["* BYE", f"{tag} OK bye"]
    return [f"{tag} OK done"]


@pytest.fixture
def smtp_server(pki: TestPKI) -> Iterator[LineServer]:
    server = LineServer(pki, "220 sandbox ESMTP", _smtp_reply)
    yield server
    server.close()


@pytest.fixture
def imap_server(pki: TestPKI) -> Iterator[LineServer]:
    server = LineServer(pki, "* OK IMAP4rev1 sandbox ready", _imap_reply)
    yield server
    server.close()


def _context(pki: TestPKI, name: str) -> ssl.SSLContext:
    credential = pki.client(name)
    return client_context(
        ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
    )


def test_smtplib_with_client_certificate(pki: TestPKI, smtp_server: LineServer) -> None:
    with smtplib.SMTP_SSL(
        "localhost", smtp_server.port, context=_context(pki, "structure"), timeout=5
    ) as smtp:
        assert smtp.noop()[0] == 250
    assert smtp_server.peers == [pki.client("structure").subject_cn]


def test_imaplib_with_client_certificate(pki: TestPKI, imap_server: LineServer) -> None:
    imap = imaplib.IMAP4_SSL(
        "localhost", imap_server.port, ssl_context=_context(pki, "cps"), timeout=5
    )
    assert imap.noop()[0] == "OK"
    imap.logout()
    assert imap_server.peers == [pki.client("cps").subject_cn]


def test_smtp_without_client_certificate_is_refused(pki: TestPKI, smtp_server: LineServer) -> None:
    context = client_context(ca_bundle=pki.ca_bundle)
    with (
        pytest.raises((ssl.SSLError, smtplib.SMTPException, OSError)),
        smtplib.SMTP_SSL("localhost", smtp_server.port, context=context, timeout=5) as smtp,
    ):
        smtp.noop()
    assert smtp_server.peers == []


def test_no_plaintext_fallback(pki: TestPKI) -> None:
    """An https URL pointing at a plain HTTP server fails; nothing is sent in clear."""
    seen: list[str] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"plain"})

    with ServerThread(app) as plain:
        url = plain.url.replace("http://", "https://")
        with (
            httpx.Client(verify=_context(pki, "insi-auto")) as client,
            pytest.raises(httpx.ConnectError),
        ):
            client.get(f"{url}/secret")
    assert seen == []
