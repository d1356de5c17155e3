"""``segur outbox run``: the command-line worker (bounded with ``--for``, stopped cleanly
by Ctrl-C or SIGTERM with the outbox consistent, refusing unbounded numbers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from segur_core.cli import cli
from segur_core.model import BirthDate, HealthDocument, Identity, IdentityTraits, Patient
from segur_core.outbox import Outbox
from segur_core.runtime import create_runtime

from ..reliability.receiver import CountingReceiver

TRAITS = IdentityTraits("MARTIN", ("ANNE",), "F", BirthDate(1970, 5, 5))


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "segur.toml"
    path.write_text(
        f'[segur]\nmode = "test"\nplugins = ["example"]\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    return path


def _queue_receipts(config: Path, count: int) -> None:
    with create_runtime(str(config)) as runtime:
        patient = runtime.host.save_patient(Patient(id="", identity=Identity(traits=TRAITS)))
        for n in range(count):
            document = runtime.host.store_document(
                HealthDocument(
                    id=f"1.2.250.1.999.1.1.{n + 1}", patient_id=patient.id, type_code="87273-9",
                    title="Note de vaccination", content=b"<ClinicalDocument/>",
                    status="validated",
                )
            )  # fmt: skip
            runtime.document_validated(document, patient)


def _counts(config: Path) -> dict[str, int]:
    with create_runtime(str(config)) as runtime:
        return {str(s): n for s, n in runtime.outbox.counts().items() if n}


def test_run_for_a_while_delivers_the_queue(tmp_path):
    config = _config(tmp_path)
    _queue_receipts(config, 3)
    assert _counts(config) == {"pending": 3}
    result = CliRunner().invoke(
        cli, ["--config", str(config), "outbox", "run", "--for", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["before"]["pending"] == 3 and data["counts"]["delivered"] == 3
    assert len(list((tmp_path / "data" / "example-receipts").iterdir())) == 3


def test_ctrl_c_stops_the_worker_and_leaves_the_outbox_consistent(tmp_path):
    config = _config(tmp_path)
    _queue_receipts(config, 2)
    env = {**os.environ, "SEGUR_CONFIG": str(config)}
    env.pop("SEGUR_HOST", None)
    # Ctrl-C as a terminal delivers it: a test run started in the background by a shell
    # without job control ignores SIGINT, its children inherit that, and Python then keeps
    # SIGINT ignored instead of raising KeyboardInterrupt
    start = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from segur_core.cli import main; main()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", start, "outbox", "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        assert "Ctrl-C to stop" in process.stderr.readline()
        deadline = time.monotonic() + 20
        while _counts(config).get("pending") and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "2 delivered" in out
    assert _counts(config) == {"delivered": 2}  # nothing in flight, nothing twice


#: A plugin posting ``relay`` deliveries to ``$RELAY_URL``, the key in Idempotency-Key.
RELAY = """
import os

import httpx

from segur_core import hookimpl
from segur_core.plugin import PluginInfo


@hookimpl
def segur_plugin_info():
    return PluginInfo(name="relay", version="1.0")


@hookimpl
def segur_outbox_senders(runtime):
    def send(item):
        answer = httpx.post(os.environ["RELAY_URL"], content=item.payload,
                            headers={"Idempotency-Key": item.key}, timeout=30)
        answer.raise_for_status()
        return answer.text

    return {"relay": send}
"""


@pytest.mark.parametrize(
    "mode", [[], ["--until-idle"], ["--for", "60"]], ids=["worker", "until-idle", "for"]
)
def test_sigterm_finishes_the_delivery_under_way_and_reports(tmp_path, fake_dist, mode):
    fake_dist("relay", RELAY)
    config = tmp_path / "segur.toml"
    config.write_text(
        f'[segur]\nmode = "test"\nplugins = ["relay"]\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    keys = [f"doc-{n}" for n in range(3)]
    with Outbox(tmp_path / "data" / "outbox.sqlite") as outbox:
        for key in keys:
            outbox.enqueue("relay", key, f"payload of {key}".encode())
    held, release = threading.Event(), threading.Event()

    def hold(key: str, number: int) -> None:
        if number == 1:  # the first delivery is answered only after the signal came
            held.set()
            release.wait(20)

    with CountingReceiver(hold=hold) as receiver:
        # PYTHONPATH: the child finds the fake distribution too
        env = {**os.environ, "SEGUR_CONFIG": str(config), "RELAY_URL": receiver.url,
               "PYTHONPATH": os.pathsep.join(sys.path)}  # fmt: skip
        env.pop("SEGUR_HOST", None)
        process = subprocess.Popen(
            [sys.executable, "-c", "from segur_core.cli import main; main()",
             "outbox", "run", "--json", *mode],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
        )  # fmt: skip
        try:
            assert held.wait(20), process.stderr.read() if process.poll() is not None else ""
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)  # the signal is handled while the delivery is under way
            release.set()
            out, err = process.communicate(timeout=30)
        finally:
            release.set()
            process.kill()
    # a stop the service manager asked for is a success, as for segur serve
    assert process.returncode == 0, err
    assert "Traceback" not in err
    data = json.loads(out)
    assert data["interrupted"] is True and data["idle"] is False
    with Outbox(tmp_path / "data" / "outbox.sqlite") as outbox:
        states = {d.key: str(d.state) for d in outbox.list()}
    assert states[keys[0]] == "delivered"  # the delivery under way was finished
    assert set(states.values()) <= {"delivered", "pending"}  # nothing left in flight
    assert data["counts"] == {
        s: n for s, n in data["counts"].items() if s in ("delivered", "pending") or not n
    }
    # delivered exactly once at the receiver, or still pending and never sent
    assert receiver.received == {k: 1 for k, s in states.items() if s == "delivered"}


def test_in_process_runs_leave_the_signal_handlers_as_they_were(tmp_path):
    config = _config(tmp_path)
    args = ["--config", str(config), "outbox", "run", "--for", "0.1", "--json"]
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    results = [CliRunner().invoke(cli, args)]  # the main thread: installed, then restored
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    thread = threading.Thread(target=lambda: results.append(CliRunner().invoke(cli, args)))
    thread.start()  # another thread cannot install handlers: the command runs without
    thread.join(30)
    assert [r.exit_code for r in results] == [0, 0], [r.output for r in results]
    assert all(json.loads(r.output)["interrupted"] is False for r in results)


def test_unbounded_numbers_are_refused(tmp_path):
    config = _config(tmp_path)
    for option in ("--for", "--timeout"):
        for value in ("nan", "inf", "-1"):
            result = CliRunner().invoke(
                cli, ["--config", str(config), "outbox", "run", option, value]
            )
            assert result.exit_code == 2 and "Traceback" not in result.output, result.output
