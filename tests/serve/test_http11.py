"""The HTTP/1.1 server of ``segur serve`` (:mod:`segur_core.serve.http11`): real sockets,
raw bytes, so that what a client that is not httpx sends (pipelined requests, chunked
bodies, ``Expect: 100-continue``, garbage) is covered; hypothesis on the request reader."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segur_core.serve.http11 import MAX_HEAD, HttpServer, Request, _Reader, _Refused


def echo(request: Request):
    """The request as the handler saw it, as JSON."""
    if request.path == "/slow":
        time.sleep(float(request.query or "1"))
    seen = {
        "method": request.method, "path": request.path, "query": request.query,
        "body": request.body.decode("latin-1"), "too_large": request.too_large,
        "host": request.peer.host, "x": request.headers.get("x-test"),
    }  # fmt: skip
    return 200, json.dumps(seen).encode(), "application/json", {"X-Seen": "yes"}


def refuse(status: int, message: str):
    return status, json.dumps({"error": {"message": message}}).encode(), "application/json", None


@contextlib.contextmanager
def serving(**options: float) -> Iterator[HttpServer]:
    """The echo server on a loopback port (``options``: the server's timeouts)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    served = HttpServer(sock, echo, refuse=refuse, max_body=1000, **options)
    served.start()
    try:
        yield served
    finally:
        served.stop(1.0)
        sock.close()


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with serving(idle_timeout=1.0) as served:
        yield served


def connect(server: HttpServer) -> socket.socket:
    sock = socket.create_connection(server.sock.getsockname(), timeout=10)
    return sock


def read_answer(
    sock: socket.socket, buffer: bytearray, *, head: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """One answer from ``sock`` (bytes past it stay in ``buffer``; ``head``: to a HEAD,
    without a body); status 0 when the server closed without one."""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            return 0, {}, bytes(buffer)
        buffer += data
    top, _, _rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    size = 0 if head or status == 100 else int(headers.get("content-length", "0"))
    start = len(top) + 4
    while len(buffer) < start + size:
        data = sock.recv(65536)
        if not data:
            break
        buffer += data
    body = bytes(buffer[start : start + size])
    del buffer[: start + size]
    return status, headers, body


def closed(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_pipelined_requests_are_answered_in_order_on_one_kept_connection(server):
    sock = connect(server)
    buffer = bytearray()
    sock.sendall(
        b"GET /a?x=1 HTTP/1.1\r\nHost: s\r\nX-Test: one\r\n\r\n"
        b"POST /b%5Ec HTTP/1.1\r\nHost: s\r\nContent-Length: 3\r\n\r\nabc"
        b"HEAD /c HTTP/1.1\r\nHost: s\r\n\r\n"
    )
    status, headers, body = read_answer(sock, buffer)
    first = json.loads(body)
    assert (status, first["method"], first["path"], first["query"], first["x"]) == (
        200, "GET", "/a", "x=1", "one"
    )  # fmt: skip
    assert headers["x-seen"] == "yes" and "date" in headers and "connection" not in headers
    second = json.loads(read_answer(sock, buffer)[2])
    assert (second["method"], second["path"], second["body"]) == ("POST", "/b^c", "abc")
    status, headers, body = read_answer(sock, buffer, head=True)
    assert (status, body) == (200, b"") and int(headers["content-length"]) > 0
    sock.sendall(b"GET /later HTTP/1.1\r\nHost: s\r\n\r\n")  # still open
    assert json.loads(read_answer(sock, buffer)[2])["path"] == "/later"
    sock.close()


def test_a_chunked_body_is_read_whole_and_one_over_the_limit_is_never_read(server):
    sock = connect(server)
    buffer = bytearray()
    sock.sendall(
        b"POST /c HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    assert json.loads(read_answer(sock, buffer)[2])["body"] == "abcde"
    sock.sendall(b"POST /c HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n")
    sock.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")  # over 1000 bytes, and more to come
    status, headers, body = read_answer(sock, buffer)
    assert status == 200 and json.loads(body)["too_large"] is True
    assert headers["connection"] == "close" and closed(sock)


def test_a_declared_length_over_the_limit_is_answered_before_the_body_is_sent(server):
    sock = connect(server)
    sock.sendall(b"POST /big HTTP/1.1\r\nHost: s\r\nContent-Length: 50000000\r\n\r\n")
    status, headers, body = read_answer(sock, bytearray())  # no byte of the body sent
    assert status == 200 and json.loads(body)["too_large"] is True
    assert headers["connection"] == "close" and closed(sock)


def test_expect_100_continue_is_answered_unless_the_body_is_too_large(server):
    sock = connect(server)
    buffer = bytearray()
    sock.sendall(
        b"POST /e HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    )
    assert read_answer(sock, buffer)[0] == 100
    sock.sendall(b"ok")
    assert json.loads(read_answer(sock, buffer)[2])["body"] == "ok"
    sock.sendall(
        b"POST /e HTTP/1.1\r\nHost: s\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"
    )
    status, _headers, body = read_answer(sock, buffer)
    assert status == 200 and json.loads(body)["too_large"] is True and closed(sock)


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (MAX_HEAD + 10), 431),
    ],
)
def test_bytes_that_are_not_a_request_get_an_answer_then_the_connection_closes(
    server, sent, status
):
    sock = connect(server)
    sock.sendall(sent)
    got, headers, _body = read_answer(sock, bytearray())
    assert got == status and headers["connection"] == "close" and closed(sock)


def test_an_idle_connection_is_closed_after_the_idle_timeout(server):
    sock = connect(server)
    buffer = bytearray()
    sock.sendall(b"GET /a HTTP/1.1\r\nHost: s\r\n\r\n")
    assert read_answer(sock, buffer)[0] == 200
    started = time.monotonic()
    assert closed(sock)
    assert time.monotonic() - started > 0.5  # not before the idle timeout (a second)


def test_a_client_dripping_its_request_is_cut_at_the_request_deadline():
    """``io_timeout`` bounds the whole request, not each read: a client sending a byte
    now and then would otherwise hold a connection, and one of the service's threads,
    for as long as it likes."""
    with serving(io_timeout=0.5) as served:
        sock = connect(served)
        sock.sendall(b"GET /a HTTP/1.1\r\nHost: s\r\n")
        with pytest.raises(OSError):  # cut long before the 100 lines are sent
            for i in range(100):
                time.sleep(0.1)  # each read well within io_timeout
                sock.sendall(b"X-Drip-%d: x\r\n" % i)
            sock.sendall(b"\r\n")
            if read_answer(sock, bytearray())[0] == 0:
                raise ConnectionResetError  # cut before an answer


def test_a_stop_closes_idle_connections_and_finishes_the_calls_under_way(server):
    idle, busy = connect(server), connect(server)
    idle.sendall(b"GET /a HTTP/1.1\r\nHost: s\r\n\r\n")
    assert read_answer(idle, bytearray())[0] == 200
    busy.sendall(b"GET /slow?3 HTTP/1.1\r\nHost: s\r\n\r\n")
    time.sleep(0.2)  # the call is under way
    stopping = threading.Thread(target=server.stop, args=(10.0,))
    stopping.start()
    assert closed(idle)
    assert not select.select([busy], [], [], 0)[0]  # at once: the call is still under way
    status, headers, body = read_answer(busy, bytearray())
    assert (status, json.loads(body)["path"], headers["connection"]) == (200, "/slow", "close")
    stopping.join(5)
    assert not stopping.is_alive()
    late = connect(server)  # the kernel may still queue it: nobody serves it
    late.sendall(b"GET /a HTTP/1.1\r\nHost: s\r\n\r\n")
    late.settimeout(1.0)
    with pytest.raises(TimeoutError):
        late.recv(1)


def test_a_stopped_server_cuts_a_call_beyond_the_grace(server):
    busy = connect(server)
    busy.sendall(b"GET /slow?3 HTTP/1.1\r\nHost: s\r\n\r\n")
    time.sleep(0.2)
    server.stop(0.3)
    assert read_answer(busy, bytearray())[0] == 0  # cut, no answer: stop did not wait for it


# -- the request reader, with hypothesis ------------------------------------------------------

REQUEST = (
    b"POST /v1/x%20y?a=1&b=%C3%A9 HTTP/1.1\r\nHost: segur\r\nX-Test: t\r\n"
    b"Content-Length: 11\r\n\r\nhello world"
    b"GET /v1/next HTTP/1.1\r\nHost: segur\r\nConnection: close\r\n\r\n"
)


def _read(chunks: list[bytes], limit: int = 1000) -> list[tuple]:
    reader = _Reader(limit, lambda: None)
    for chunk in chunks:
        reader.feed(chunk)
    return reader.done


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(REQUEST)), max_size=20))
def test_a_request_split_anywhere_reads_the_same(cuts):
    points = sorted(set(cuts))
    chunks = [REQUEST[a:b] for a, b in zip([0, *points], [*points, len(REQUEST)], strict=True)]
    assert _read(chunks) == _read([REQUEST])
    first, second = _read([REQUEST])
    assert first[:2] == (b"POST", b"/v1/x%20y?a=1&b=%C3%A9") and first[3:] == (
        b"hello world", False, True
    )  # fmt: skip
    assert first[2]["x-test"] == "t" and second[0] == b"GET" and second[5] is False


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=5))
def test_any_bytes_read_as_requests_or_a_typed_refusal(chunks):
    try:
        done = _read(chunks, limit=50)
    except _Refused as refused:
        assert refused.status in (400, 431)
    else:
        for method, url, _headers, body, too_large, keep in done:
            assert isinstance(method, bytes) and isinstance(url, bytes)
            assert len(body) <= 50 and (not too_large or body == b"")
            assert not (too_large and keep)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(min_size=1, max_size=300))
def test_any_bytes_sent_never_stop_the_server(server, garbage):
    sock = connect(server)
    sock.sendall(garbage)
    sock.shutdown(socket.SHUT_WR)
    buffer = bytearray()
    while True:  # answers, then the server closes (the client sent everything it will)
        status, _headers, _body = read_answer(sock, buffer)
        if status == 0:
            break
        assert 100 <= status < 600
    sock.close()
    check = connect(server)
    check.sendall(b"GET /ok HTTP/1.1\r\nHost: s\r\n\r\n")
    assert read_answer(check, bytearray())[0] == 200
    check.close()
