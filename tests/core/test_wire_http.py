"""segur_core.wire.http on the wire: what the server reads of a request, what the caller
makes of a compressed answer, over both transports (libcurl for a context made by
``client_context``, httpcore for any other). A real TLS server on loopback records every
read."""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segur_core.sandbox.pki import TestPKI
from segur_core.tls import client_context, client_material, server_context
from segur_core.wire.errors import (
    AnswerTooLarge,
    CallTimeout,
    ServerCertificateError,
    ServiceUnreachable,
)
from segur_core.wire.http import CallLimits, HttpCaller


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"))


class RecordingServer:
    """Answers every request of its keep-alive connections with ``answer`` (a whole HTTP
    response), after noting each ``recv`` of the request as it came; with ``ca_bundle``
    it requires a client certificate and notes its subject."""

    def __init__(
        self,
        cert: Path,
        key: Path,
        answer: bytes,
        *,
        ca_bundle: Path | None = None,
        address: str = "127.0.0.1",
        host: str = "localhost",
        hang_up_on: frozenset[int] = frozenset(),
        close_after: frozenset[int] = frozenset(),
    ) -> None:
        self.answer = answer
        self.hang_up_on = hang_up_on  # requests (1, 2...) closed without an answer
        self.close_after = close_after  # requests answered, then their connection closed
        self.reads: list[list[bytes]] = []  # per request, the recv()s it took
        self.connections = 0
        self.peers: list[str] = []  # the client certificates' subjects
        self._context = server_context(
            cert, key, ca_bundle, require_client_cert=ca_bundle is not None
        )
        self._sock = socket.create_server((address, 0))
        self.url = f"https://{host}:{self._sock.getsockname()[1]}/ask?x=1"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        self._sock.close()
        self._thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connection, args=(raw,), daemon=True).start()

    def _connection(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        try:
            with self._context.wrap_socket(raw, server_side=True) as conn:
                peer = conn.getpeercert()
                if peer:
                    self.peers.append(dict(field[0] for field in peer["subject"])["commonName"])
                while self._one(conn):
                    pass
        except OSError:
            pass  # the client refused the handshake or hung up

    def _one(self, conn) -> bool:
        reads: list[bytes] = []
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            reads.append(chunk)
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                lengths = [
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                if len(body) >= sum(lengths):
                    break
        self.reads.append(reads)
        if len(self.reads) in self.hang_up_on:
            return False
        conn.sendall(self.answer)
        return len(self.reads) not in self.close_after


@pytest.fixture(params=["curl", "httpcore"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


def _context(pki: TestPKI, transport: str) -> ssl.SSLContext:
    """``client_context``'s (libcurl), or a plain one trusting the same CA (httpcore)."""
    if transport == "curl":
        return client_context(ca_bundle=pki.ca_bundle)
    return ssl.create_default_context(cafile=str(pki.ca_bundle))


@pytest.fixture
def make_caller(pki: TestPKI, transport: str):
    def make(**limits) -> HttpCaller:
        caller = HttpCaller(
            service="test", ssl_context=_context(pki, transport), limits=CallLimits(**limits)
        )
        assert caller.transport == {"curl": "libcurl", "httpcore": "httpcore"}[transport]
        return caller

    return make


OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


def test_a_request_reaches_the_server_in_one_read_head_and_body(pki, make_caller):
    body = b"<Envelope>" + b"x" * 3000 + b"</Envelope>"
    with RecordingServer(pki.server_cert, pki.server_key, OK) as server, make_caller() as caller:
        for _ in range(3):  # the first on a new connection, then on the kept one
            answer = caller.post(server.url, body, {"Content-Type": "a/b", "X-Two": "2"})
            assert (answer.status, answer.content) == (200, b"ok")
    assert len(server.reads) == 3 and server.connections == 1
    for reads in server.reads:
        assert len(reads) == 1, [len(r) for r in reads]  # one TLS record, one read
        head, _, sent = reads[0].partition(b"\r\n\r\n")
        assert sent == body
        lines = head.split(b"\r\n")
        assert lines[0] == b"POST /ask?x=1 HTTP/1.1"
        assert lines[1:] == [
            b"Host: " + server.url.split("/")[2].encode(),
            b"Content-Type: a/b",
            b"X-Two: 2",
            b"Content-Length: " + str(len(body)).encode(),
        ]


def test_an_empty_body_is_announced_right_after_the_host_a_get_announces_none(pki, make_caller):
    with RecordingServer(pki.server_cert, pki.server_key, OK) as server, make_caller() as caller:
        assert caller.post(server.url, b"", {"Accept": "*/*"}).content == b"ok"
        assert caller.request("get", server.url, None, {"Accept": "*/*"}).content == b"ok"
    post, get = (reads[0].partition(b"\r\n\r\n")[0].split(b"\r\n") for reads in server.reads)
    assert post[1:] == [post[1], b"Content-Length: 0", b"Accept: */*"]
    assert get[0].startswith(b"GET ") and get[2:] == [b"Accept: */*"]


def _gzipped(size: int) -> bytes:
    packed = gzip.compress(b"<a>" + b" " * (size - 7) + b"</a>")
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Encoding: gzip\r\n"
        f"Content-Length: {len(packed)}\r\n\r\n"
    )
    return head.encode() + packed


def test_a_compressed_answer_is_decoded_and_its_decoded_size_capped(pki, make_caller):
    answer = _gzipped(200_000)  # about 250 bytes on the wire
    with RecordingServer(pki.server_cert, pki.server_key, answer) as server:
        with make_caller(max_bytes=300_000) as caller:
            read = caller.post(server.url, b"<q/>", {"Accept-Encoding": "gzip"})
        assert read.content.startswith(b"<a>") and len(read.content) == 200_000
        assert read.headers["content-encoding"] == "gzip"
    with (
        RecordingServer(pki.server_cert, pki.server_key, answer) as server,
        make_caller(max_bytes=100_000) as caller,
        pytest.raises(AnswerTooLarge),
    ):
        caller.post(server.url, b"<q/>", {"Accept-Encoding": "gzip"})


def test_callers_share_a_bounded_pool_of_kept_alive_connections(pki):
    """libcurl's pool only: httpcore 1.0.9's can close a connection it has just handed
    to a waiting thread (encode/httpcore#1110), which this test shows often."""
    context = _context(pki, "curl")
    body = b"<q/>"
    with (
        RecordingServer(pki.server_cert, pki.server_key, OK) as server,
        HttpCaller(service="test", ssl_context=context, max_connections=3) as caller,
        ThreadPoolExecutor(8) as pool,
    ):
        answers = list(pool.map(lambda _: caller.post(server.url, body).content, range(200)))
    assert answers == [b"ok"] * 200
    assert len(server.reads) == 200 and 1 <= server.connections <= 3


def test_a_request_on_a_connection_that_breaks_is_not_sent_again(pki, make_caller):
    """The server reads the second request and hangs up: the call fails, the request is
    not sent again on a new connection (the server may have acted on it)."""
    with (
        RecordingServer(pki.server_cert, pki.server_key, OK, hang_up_on=frozenset({2})) as server,
        make_caller() as caller,
    ):
        assert caller.post(server.url, b"<first/>").content == b"ok"
        with pytest.raises(ServiceUnreachable) as caught:
            caller.post(server.url, b"<second/>")
        assert caught.value.transient
        assert caller.post(server.url, b"<third/>").content == b"ok"  # a new connection
    sent = [reads[0].partition(b"\r\n\r\n")[2] for reads in server.reads]
    assert sent == [b"<first/>", b"<second/>", b"<third/>"]


def test_the_headers_are_the_final_answers_after_an_interim_one(pki, make_caller):
    answer = (
        b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Final:  kept \r\n"
        b"Content-Length: 2\r\n\r\nok"
    )
    with RecordingServer(pki.server_cert, pki.server_key, answer) as server, make_caller() as c:
        read = c.post(server.url, b"<q/>")
    assert (read.status, read.content) == (201, b"ok")
    assert read.headers == {"content-type": "text/plain", "x-final": "kept", "content-length": "2"}


def test_a_kept_connection_the_server_closed_is_not_reused(pki, make_caller):
    """An idle kept-alive connection the server closed (its keep-alive timeout) is seen
    closed before the next request, which goes out on a new connection."""
    with (
        RecordingServer(pki.server_cert, pki.server_key, OK, close_after=frozenset({1})) as server,
        make_caller() as caller,
    ):
        assert caller.post(server.url, b"<first/>").content == b"ok"
        time.sleep(0.3)  # the server's close reaches the client
        assert caller.post(server.url, b"<second/>").content == b"ok"
    assert len(server.reads) == 2 and server.connections == 2


def test_a_declared_length_over_the_cap_is_refused_before_the_body(pki, make_caller):
    """The head announces 10 MB and no body byte follows: refused at once, not timed out."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 10000000\r\n\r\n"
    with (
        RecordingServer(pki.server_cert, pki.server_key, head) as server,
        make_caller(max_bytes=1_000_000, deadline=5.0) as caller,
        pytest.raises(AnswerTooLarge),
    ):
        started = time.monotonic()
        caller.post(server.url, b"<q/>")
    assert time.monotonic() - started < 3.0


def test_a_handshake_that_never_comes_ends_at_the_deadline(make_caller):
    """A server that accepts the TCP connection and never speaks TLS."""
    with socket.create_server(("127.0.0.1", 0)) as silent, make_caller(deadline=1.0) as caller:
        started = time.monotonic()
        with pytest.raises(CallTimeout):
            caller.post(f"https://localhost:{silent.getsockname()[1]}/", b"<q/>")
        assert time.monotonic() - started < 3.0


def test_the_client_certificate_is_presented(pki, transport):
    credential = pki.client("insi-auto")
    if transport == "curl":
        context = client_context(
            ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
        )
    else:
        context = ssl.create_default_context(cafile=str(pki.ca_bundle))
        context.load_cert_chain(credential.cert_path, credential.key_path)
    with (
        RecordingServer(pki.server_cert, pki.server_key, OK, ca_bundle=pki.ca_bundle) as server,
        HttpCaller(service="test", ssl_context=context) as caller,
    ):
        assert caller.post(server.url, b"<q/>").content == b"ok"
        assert caller.transport == {"curl": "libcurl", "httpcore": "httpcore"}[transport]
    assert server.peers == ["INSI-AUTO"]


def _presented_through_libcurl(pki, context) -> None:
    """A call with ``context`` goes through libcurl and the server sees the client's
    certificate (one peer certificate recorded)."""
    with (
        RecordingServer(pki.server_cert, pki.server_key, OK, ca_bundle=pki.ca_bundle) as server,
        HttpCaller(service="test", ssl_context=context) as caller,
    ):
        assert caller.transport == "libcurl"
        assert caller.post(server.url, b"<q/>").content == b"ok"
    assert len(server.peers) == 1


def test_a_pem_client_certificate_is_presented_by_libcurl(pki):
    credential = pki.client("structure")
    context = client_context(
        ca_bundle=pki.ca_bundle, cert=credential.cert_path, key=credential.key_path
    )
    _presented_through_libcurl(pki, context)


def test_an_encrypted_pem_key_is_presented_by_libcurl(pki, tmp_path):
    from cryptography.hazmat.primitives import serialization

    credential = pki.client("structure")
    key = serialization.load_pem_private_key(credential.key_path.read_bytes(), password=None)
    encrypted = tmp_path / "key.pem"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    context = client_context(
        ca_bundle=pki.ca_bundle, cert=credential.cert_path, key=encrypted, password="s3cret"
    )
    _presented_through_libcurl(pki, context)


def test_a_server_name_the_certificate_does_not_hold_is_refused(pki, make_caller):
    """The certificate names localhost, 127.0.0.1 and ::1; the server answers on
    127.0.0.2 (Linux routes all of 127/8 to loopback)."""
    try:
        server = RecordingServer(
            pki.server_cert, pki.server_key, OK, address="127.0.0.2", host="127.0.0.2"
        )
    except OSError:
        pytest.skip("127.0.0.2 is not a loopback address here")
    with server, make_caller() as caller, pytest.raises(ServerCertificateError) as caught:
        caller.post(server.url, b"<q/>")
    assert caught.value.code == "tls" and not caught.value.transient


def test_no_proxy_is_taken_from_the_environment(pki, make_caller, monkeypatch):
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens on the discard port
    with RecordingServer(pki.server_cert, pki.server_key, OK) as server, make_caller() as caller:
        assert caller.post(server.url, b"<q/>").content == b"ok"


def test_a_changed_context_is_served_by_httpcore(pki):
    """libcurl gets what ``client_context`` made; a context changed since (verification
    relaxed, another CA loaded) goes through ``ssl`` as it is."""
    context = client_context(ca_bundle=pki.ca_bundle)
    assert client_material(context) is not None
    context.check_hostname = False
    assert client_material(context) is None
    other = client_context(ca_bundle=pki.ca_bundle)
    other.load_verify_locations(cafile=str(pki.ca_bundle))
    assert client_material(other) is None
    assert HttpCaller(service="test", ssl_context=other).transport == "httpcore"


_FIELD = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
_VALUE = st.from_regex(r"[ -~]{0,20}", fullmatch=True).map(str.strip)


@settings(max_examples=200, deadline=None)
@given(
    interim=st.lists(st.lists(st.tuples(_FIELD, _VALUE), max_size=3), max_size=2),
    final=st.lists(st.tuples(_FIELD, _VALUE), max_size=6),
    trailing=st.binary(max_size=40),
)
def test_libcurl_answer_heads_read_as_the_last_heads_fields(interim, final, trailing):
    """What libcurl hands over as head lines (any interim 1xx heads, then the answer's,
    then whatever a server adds) reads as the answer's own fields, names lower-cased,
    the last of a repeated name winning; arbitrary bytes never raise."""
    from segur_core.wire.curl import _Reader

    def head(status: str, fields) -> bytes:
        lines = [status] + [f"{name}: {value}" for name, value in fields]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")

    reader = _Reader()
    for fields in interim:
        reader.head += head("HTTP/1.1 100 Continue", fields)
    reader.head += head("HTTP/1.1 200 OK", final)
    assert reader.headers() == {name.lower(): value for name, value in final}
    reader.head += trailing.replace(b"HTTP/", b"")  # no further head, whatever follows
    noisy = reader.headers()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in noisy.items())
    reader.reset(0)
    reader.head += trailing
    assert isinstance(reader.headers(), dict)
