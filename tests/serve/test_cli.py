"""``segur serve`` as an operator runs it: a real process, a real socket, real signals."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

from segur_core.serve import ServeClient

SEGUR = [sys.executable, "-c", "from segur_core.cli import main; main()"]


def _config(tmp_path: Path, serve: str = "") -> Path:
    path = tmp_path / "segur.toml"
    path.write_text(
        f'[segur]\nplugins = []\ndata_dir = "data"\nmode = "test"\n{serve}', encoding="utf-8"
    )
    return path


def _start(args: list[str], tmp_path: Path, env: dict[str, str] | None = None):
    config = _config(tmp_path, (env or {}).pop("_serve", ""))
    process = subprocess.Popen(
        [*SEGUR, "--config", str(config), "serve", "--json", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})}, cwd=tmp_path,
    )  # fmt: skip
    line = process.stdout.readline()
    if not line:
        process.wait(10)
        pytest.fail(f"segur serve did not start: {process.stderr.read()}")
    return process, json.loads(line)["listening"]


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return out


def test_without_authentication_it_listens_on_a_private_unix_socket(tmp_path):
    process, url = _start([], tmp_path)
    try:
        socket_path = Path(url.removeprefix("unix:"))
        assert socket_path == tmp_path / "data" / "serve.sock"
        assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
        with ServeClient(url) as client:
            assert client.get("/health")["status"] == "ok"
            assert client.wait_ready(10)["ready"] is True
            client.get("/plugins")
            records = client.get("/audit", limit=5)["records"]
        assert records[-1]["actor"] == f"uid:{os.getuid()}"
    finally:
        out = _stop(process)
    assert '"stopped": true' in out
    assert not socket_path.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "needs a bearer token or mutual TLS"),
        (["--host", "0.0.0.0", "--port", "0"], "not a loopback address"),
    ],
)
def test_unsafe_addresses_are_refused_at_start(tmp_path, args, message):
    done = subprocess.run(
        [*SEGUR, "--config", str(_config(tmp_path)), "serve", *args],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_with_a_token_it_listens_on_loopback_tcp(tmp_path):
    serve = '[segur.serve]\ntoken = "env:SEGUR_TEST_TOKEN"\n'
    process, url = _start(["--port", "0"], tmp_path, {"SEGUR_TEST_TOKEN": "t0ken", "_serve": serve})
    try:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/v1/plugins").status_code == 401
        with ServeClient(url, token="t0ken") as client:
            assert client.get("/plugins")["mode"] == "test"
    finally:
        _stop(process)


_GRACEFUL = textwrap.dedent(
    """
    import sys, threading, time
    from pathlib import Path
    from segur_core.runtime import create_runtime
    from segur_core.serve import ApiRoute, ServeSettings, create_app, serve

    started = threading.Event()

    def slow(call):
        time.sleep(1.5)
        return {"finished": True}

    def sender(item):
        started.set()
        time.sleep(1.5)
        return "sent"

    config = {"segur": {"plugins": [], "mode": "test"}}
    with create_runtime(config, data_dir=sys.argv[1]) as runtime:
        runtime.outbox.register_sender("test.slow", sender)
        settings = ServeSettings(socket=Path(sys.argv[2]), warm=False)
        route = ApiRoute("POST", "/test/slow", slow, "slow", "Slow.")
        app = create_app(runtime, settings, routes=[route])

        def listening(url):
            runtime.outbox.enqueue("test.slow", "k1", b"payload")
            started.wait(10)
            print(url, flush=True)

        serve(runtime, settings, on_listening=listening, app=app)
    print("closed", flush=True)
    """
)


def test_a_stop_finishes_calls_under_way_and_the_delivery_in_flight(tmp_path):
    data, sock = tmp_path / "data", tmp_path / "s.sock"
    process = subprocess.Popen(
        [sys.executable, "-c", _GRACEFUL, str(data), str(sock)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = process.stdout.readline().strip()
    assert url == f"unix:{sock}", url if url else process.stderr.read()
    answers = []

    def call():
        with ServeClient(url) as client:
            answers.append(client.post("/test/slow"))

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.5)  # the call is under way, and the delivery in flight
    process.send_signal(signal.SIGTERM)
    caller.join(30)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert answers == [{"finished": True}]
    assert "closed" in out
    from segur_core.outbox import Outbox

    with Outbox(data / "outbox.sqlite") as outbox:
        assert [str(d.state) for d in outbox.list()] == ["delivered"]
