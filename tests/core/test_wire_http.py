"""segur_core.wire.http on the wire: what the server reads of a request, what the caller
makes of a compressed answer. A real TLS server on loopback records every read."""

from __future__ import annotations

import gzip
import socket
import threading
from pathlib import Path

import pytest

from segur_core.sandbox.pki import TestPKI
from segur_core.tls import client_context, server_context
from segur_core.wire.errors import AnswerTooLarge
from segur_core.wire.http import CallLimits, HttpCaller


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"))


class RecordingServer:
    """Answers every request of a keep-alive connection with ``answer`` (a whole HTTP
    response), after noting each ``recv`` of the request as it came."""

    def __init__(self, cert: Path, key: Path, answer: bytes) -> None:
        self.answer = answer
        self.reads: list[list[bytes]] = []  # per request, the recv()s it took
        self._context = server_context(cert, key, None, require_client_cert=False)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://localhost:{self._sock.getsockname()[1]}/ask?x=1"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._sock.close()
        self._thread.join(5)

    def _serve(self) -> None:
        try:
            raw, _ = self._sock.accept()
        except OSError:
            return
        raw.settimeout(10)
        with self._context.wrap_socket(raw, server_side=True) as conn:
            while self._one(conn):
                pass

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
        conn.sendall(self.answer)
        return True


def _caller(pki: TestPKI, **limits) -> HttpCaller:
    context = client_context(ca_bundle=pki.ca_bundle)
    return HttpCaller(service="test", ssl_context=context, limits=CallLimits(**limits))


OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


def test_a_request_reaches_the_server_in_one_read_head_and_body(pki):
    body = b"<Envelope>" + b"x" * 3000 + b"</Envelope>"
    with RecordingServer(pki.server_cert, pki.server_key, OK) as server, _caller(pki) as caller:
        for _ in range(3):  # the first on a new connection, then on the kept one
            answer = caller.post(server.url, body, {"Content-Type": "a/b", "X-Two": "2"})
            assert (answer.status, answer.content) == (200, b"ok")
    assert len(server.reads) == 3
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


def test_an_empty_body_is_announced_right_after_the_host_a_get_announces_none(pki):
    with RecordingServer(pki.server_cert, pki.server_key, OK) as server, _caller(pki) as caller:
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


def test_a_compressed_answer_is_decoded_and_its_decoded_size_capped(pki):
    answer = _gzipped(200_000)  # about 250 bytes on the wire
    with RecordingServer(pki.server_cert, pki.server_key, answer) as server:
        with _caller(pki, max_bytes=300_000) as caller:
            read = caller.post(server.url, b"<q/>", {"Accept-Encoding": "gzip"})
        assert read.content.startswith(b"<a>") and len(read.content) == 200_000
        assert read.headers["content-encoding"] == "gzip"
    with (
        RecordingServer(pki.server_cert, pki.server_key, answer) as server,
        _caller(pki, max_bytes=100_000) as caller,
        pytest.raises(AnswerTooLarge),
    ):
        caller.post(server.url, b"<q/>", {"Accept-Encoding": "gzip"})
