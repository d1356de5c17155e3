"""Every validated document ends in the DMP exactly once, with the sandbox failing 30% of
calls, losing answers after committing, going down for a while, and the worker killed
with SIGKILL mid-feed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from segur_dmp.ns import ACTION
from segur_dmp.service import service_for
from segur_dmp.testing import fresh_copy, kit_example, kit_patient, vaccination_note

from segur_core.model import Patient
from segur_core.outbox import Outbox


def _patient(runtime) -> Patient:
    return runtime.host.save_patient(kit_patient("P-REL"))


def _validate(runtime, patient, n: int) -> list[str]:
    template = kit_example("VAC-NOTE_2023.01.xml")
    ids = []
    for _ in range(n):
        uid, cda = fresh_copy(template)
        runtime.document_validated(vaccination_note(patient.id, uid, cda), patient)
        ids.append(uid)
    return ids


def _assert_exactly_once(runtime, sandbox, ids: list[str]) -> None:
    docs = [d for d in sandbox.registry.documents() if not d.is_signature]
    assert sorted(d.unique_id for d in docs) == sorted(ids)  # each once, nothing else
    assert sandbox.registry.count(signatures=True) == len(ids)
    for uid in ids:
        assert runtime.outbox.find(uid).state == "delivered"
        assert service_for(runtime).status.get(uid).state == "in-dmp"


@pytest.fixture
def runtime(make_segur_runtime):
    return make_segur_runtime(autoload=True, plugins=["ins", "dmp"])


def test_flaky_and_down_sandbox(runtime):
    sandbox = runtime.sandbox("dmp")
    sandbox.faults.fail(0.3)
    sandbox.app.lose_reply_ratio = 0.25
    sandbox.app.reseed(7)
    outbox = Outbox(
        runtime.data_dir / "outbox.sqlite",
        runtime=runtime,
        base_delay=0.02,
        max_delay=0.2,
        max_attempts=200,
        lease=2.0,
        poll_interval=0.02,
    )
    patient = _patient(runtime)
    ids = _validate(runtime, patient, 10)
    outbox.start_worker(threads=3)
    time.sleep(0.3)
    sandbox.faults.down(1.0)  # down for a while in the middle of the run
    ids += _validate(runtime, patient, 10)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and any(
        runtime.outbox.find(u).state != "delivered" for u in ids
    ):
        time.sleep(0.1)
    outbox.close()
    sandbox.faults.clear()
    assert sandbox.faults.counts["error"] > 0 and sandbox.faults.counts["down"] > 0
    assert sandbox.app.calls[ACTION.ITI41] > len(ids)  # retries did happen
    _assert_exactly_once(runtime, sandbox, ids)


@pytest.mark.slow
def test_worker_killed_mid_feed(runtime):
    sandbox = runtime.sandbox("dmp")
    sandbox.faults.fail(0.3)
    sandbox.app.lose_reply_ratio = 0.2
    sandbox.app.reseed(11)
    sandbox.faults.set_delay(0.02)
    patient = _patient(runtime)
    ids = _validate(runtime, patient, 40)
    worker = Path(__file__).with_name("_feed_worker.py")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def spawn() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, str(worker), str(runtime.data_dir), sandbox.url],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout.readline().strip() == b"ready"
        return proc

    first = spawn()
    try:
        deadline = time.monotonic() + 20
        while sandbox.registry.count() < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sandbox.registry.count() < len(ids), "killed too late to be mid-feed"
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(10)
    fed_before = sandbox.registry.count()
    second = spawn()
    sandbox.faults.down(0.5)  # and the DMP is down for a while as the new worker starts
    try:
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and any(
            (d := runtime.outbox.find(u)) is None or d.state != "delivered" for u in ids
        ):
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(10)
    sandbox.faults.clear()
    assert 0 < fed_before < len(ids)
    # settlement events fired in the worker process; replay the status from the outbox
    for uid in ids:
        service_for(runtime).settled(runtime.outbox.find(uid))
    _assert_exactly_once(runtime, sandbox, ids)
