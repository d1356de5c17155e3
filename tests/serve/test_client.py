"""The Python client of ``segur serve`` (:class:`ServeClient`, on ``http.client``): kept
connections the service closed are not reused, one client serves several threads, query
values are written as the service reads them, and no service is a typed error."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from segur_core.serve import ApiError, ServeClient
from segur_core.serve.client import ServiceUnavailable
from segur_core.serve.http11 import HttpServer, Request

from .conftest import TOKEN


def echo(request: Request):
    body = {"path": request.path, "query": request.query, "body": request.body.decode()}
    if request.path.endswith("/refuse"):
        error = {"error": {"code": "nope", "message": "refused", "hint": None, "type": "X"}}
        return 409, json.dumps(error).encode(), "application/json", None
    return 200, json.dumps(body).encode(), "application/json", None


@pytest.fixture
def short_lived():
    """A server that closes a connection after 0.2 s without a request."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = HttpServer(sock, echo, refuse=lambda s, m: (s, b"", "text/plain", None),
                        max_body=1000, idle_timeout=0.2)  # fmt: skip
    server.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.stop(1.0)
    sock.close()


def test_a_kept_connection_the_service_closed_is_not_reused(short_lived):
    with ServeClient(short_lived) as client:
        assert client.post("/a", {"n": 1})["body"] == '{"n": 1}'
        time.sleep(0.5)  # the service closed the idle connection
        assert client.post("/b", {"n": 2})["path"] == "/v1/b"


def test_one_client_serves_several_threads_and_writes_queries_as_the_service_reads_them(
    short_lived,
):
    client = ServeClient(short_lived)
    answers: list[tuple[int, str]] = []

    def calls(worker: int) -> None:
        for i in range(20):
            got = client.request("POST", f"/w/{worker}", json_body={"i": i})
            answers.append((worker, got["path"]))

    threads = [threading.Thread(target=calls, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == sorted((w, f"/v1/w/{w}") for w in range(6) for _ in range(20))
    got = client.get("/q", limit=5, flag=True, kind="dmp.iti41")
    assert got["query"] == "limit=5&flag=true&kind=dmp.iti41"
    with pytest.raises(ApiError) as caught:
        client.get("/refuse")
    assert (caught.value.status, caught.value.code) == (409, "nope")
    client.close()


def test_no_service_is_a_typed_error(tmp_path):
    with (
        ServeClient(f"unix:{tmp_path / 'none.sock'}", token=TOKEN) as client,
        pytest.raises(ServiceUnavailable, match="no segur service answers"),
    ):
        client.get("/health")
    with pytest.raises(ServiceUnavailable, match="not a service URL"):
        ServeClient("localhost:8765").get("/health")


def test_a_body_over_the_limit_gets_its_refusal_not_a_broken_connection():
    """The service answers 413 before reading such a body, then reads and drops the
    rest: the client, still sending, gets the refusal (it got a broken pipe before)."""

    def limit(request: Request):
        if request.too_large:
            error = {"error": {"code": "too_large", "message": "too large", "type": "ApiError"}}
            return 413, json.dumps(error).encode(), "application/json", None
        return 200, b"{}", "application/json", None

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = HttpServer(sock, limit, refuse=lambda s, m: (s, b"", "text/plain", None),
                        max_body=1024)  # fmt: skip
    server.start()
    try:
        with ServeClient(f"http://127.0.0.1:{sock.getsockname()[1]}") as client:
            for size in (10_000, 1_000_000, 8_000_000):
                with pytest.raises(ApiError) as caught:
                    client.request("POST", "/x", content=b"x" * size, media_type="text/plain")
                assert (caught.value.status, caught.value.code) == (413, "too_large")
            assert client.request("POST", "/x", content=b"small", media_type="text/plain") == {}
    finally:
        server.stop(1.0)
        sock.close()
