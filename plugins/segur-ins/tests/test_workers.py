"""The batch's INSi calls made by worker processes (:mod:`segur_ins.workers`).

Real worker processes, real mutual TLS to the runtime's INSi sandbox. What the batch
promises with threads holds with processes: every answer received is journaled before it
is used (an interrupted run included), a failure is that patient's, and a worker that
dies costs only the calls it had under way, which the next run does again.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from segur_ins.batch import PROCESSES_FROM, progress_path, qualify_all, worker_processes
from segur_ins.connection import client_recipe
from segur_ins.plugin import service
from segur_ins.sandbox.persons import generate_persons
from segur_ins.workers import LookupWorkers, supported

from segur_core.errors import TLSConfigError
from segur_core.model import Identity, IdentityStatus, Patient

pytestmark = pytest.mark.skipif(not supported(), reason="worker processes need POSIX")


def _runtime(make_segur_runtime, count: int, seed: int):
    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    persons = list(generate_persons(count, seed=seed))
    runtime.sandbox("insi").add_persons(persons)
    for person in persons:
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=person.traits())))
    return runtime


def _journaled_requests(runtime) -> int:
    searches = [r for r in runtime.journal.records() if r.action == "insi.search"]
    return sum(r.details.get("requests", 1) for r in searches)


def _changes_per_patient(runtime) -> dict[str, int]:
    changes: dict[str, int] = {}
    for record in runtime.journal.records():
        if record.action == "ins.identity" and record.outcome == "ok":
            changes[record.patient_id] = changes.get(record.patient_id, 0) + 1
    return changes


def test_a_batch_through_worker_processes(make_segur_runtime):
    runtime = _runtime(make_segur_runtime, 60, seed=11)
    summary = qualify_all(service(runtime), processes=2, concurrency=4)
    assert summary.completed and summary.counts == {"qualified": 60}
    assert {p.identity.status for p in runtime.host.find_patients()} == {
        IdentityStatus.RECOVERED
    }
    assert _journaled_requests(runtime) == runtime.sandbox("insi").service.requests
    assert set(_changes_per_patient(runtime).values()) == {1}
    start = next(r for r in runtime.journal.records() if r.action == "ins.qualify-all")
    assert start.details["processes"] == 2
    assert not progress_path(runtime.data_dir).exists()


def test_the_workers_are_kept_for_the_next_batch_and_closed_with_the_service(
    make_segur_runtime,
):
    runtime = _runtime(make_segur_runtime, 8, seed=12)
    ins = service(runtime)
    qualify_all(ins, patients=runtime.host.find_patients()[:4], processes=2, concurrency=2)
    pids = ins.workers(2, 2).pids()
    assert len(pids) == 2
    qualify_all(ins, patients=runtime.host.find_patients()[4:], processes=2, concurrency=2)
    assert ins.workers(2, 2).pids() == pids
    ins.close()
    for pid in pids:  # ended and reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_closing_the_runtime_stops_the_workers(make_segur_runtime):
    runtime = _runtime(make_segur_runtime, 4, seed=16)
    qualify_all(service(runtime), processes=1, concurrency=2)
    (pid,) = service(runtime).workers(1, 2).pids()
    runtime.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_insi_errors_come_back_typed_from_the_workers(make_segur_runtime):
    runtime = _runtime(make_segur_runtime, 6, seed=13)
    sandbox = runtime.sandbox("insi")
    sandbox.faults.down()
    try:
        summary = qualify_all(service(runtime), processes=2, concurrency=2)
    finally:
        sandbox.faults.up()
    # the same codes as with threads: the InsiError crossed the process boundary whole
    assert summary.counts == {"error": 6} and summary.errors == {"http_503": 6}
    again = qualify_all(service(runtime), processes=2, concurrency=2)
    assert again.counts == {"qualified": 6}


def test_ctrl_c_settles_every_answer_the_workers_received(make_segur_runtime):
    runtime = _runtime(make_segur_runtime, 40, seed=14)
    runtime.sandbox("insi").faults.set_delay(0.02)
    seen = []

    def interrupt(outcome):
        seen.append(outcome)
        if len(seen) == 5:
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            qualify_all(service(runtime), processes=2, concurrency=4, on_done=interrupt)
    finally:
        runtime.sandbox("insi").faults.set_delay(0)
    # the calls under way when Ctrl-C came were answered and journaled before it returned
    assert _journaled_requests(runtime) == runtime.sandbox("insi").service.requests
    assert len(seen) > 5  # ...and settled
    summary = qualify_all(service(runtime), processes=2, concurrency=4)
    assert summary.completed and summary.resumed >= len(seen)
    assert summary.resumed + summary.total == 40
    assert set(_changes_per_patient(runtime).values()) == {1}


def test_a_killed_worker_costs_only_its_calls_under_way(make_segur_runtime):
    runtime = _runtime(make_segur_runtime, 40, seed=15)
    ins = service(runtime)
    sandbox = runtime.sandbox("insi")
    sandbox.faults.set_delay(0.03)
    killed = []

    def kill_one(outcome):
        if not killed:
            pid = ins.workers(2, 2).pids()[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    try:
        first = qualify_all(ins, processes=2, concurrency=2, on_done=kill_one)
    finally:
        sandbox.faults.set_delay(0)
    # the other worker did the rest; only the lost calls are errors, kept for next time
    assert first.completed and first.total == 40
    lost = first.errors.get("WorkerLost", 0)
    assert 1 <= lost <= 3 and first.counts["qualified"] == 40 - lost
    made = sandbox.service.requests
    assert made - lost <= _journaled_requests(runtime) <= made
    errors = [r.details.get("error") for r in runtime.journal.records()
              if r.action == "ins.qualify"]  # fmt: skip
    assert errors.count("WorkerLost") == lost
    second = qualify_all(ins, processes=2, concurrency=2)  # a new worker replaces the dead one
    assert second.counts == {"qualified": lost} and killed[0] not in ins.workers(2, 2).pids()
    assert {p.identity.status for p in runtime.host.find_patients()} == {
        IdentityStatus.RECOVERED
    }
    assert set(_changes_per_patient(runtime).values()) == {1}  # nothing twice


def test_a_worker_that_cannot_load_its_certificate_says_why(make_segur_runtime, tmp_path):
    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    ins = service(runtime)
    broken = tmp_path / "broken.p12"
    broken.write_bytes(b"not a PKCS#12 file")
    recipe = client_recipe(ins.config, runtime)
    import attrs

    recipe = attrs.evolve(recipe, tls=attrs.evolve(recipe.tls, pkcs12=broken))
    workers = LookupWorkers(recipe, processes=2, concurrency=2)
    with pytest.raises(TLSConfigError):
        workers.start()
    assert workers.pids() == []


def test_how_many_worker_processes():
    assert worker_processes(0, 8, 10**6) == 0
    assert worker_processes(3, 2, 5) == 2  # never more than the concurrency
    assert worker_processes(None, 8, PROCESSES_FROM - 1) == 0  # small batch: threads
    cores = len(os.sched_getaffinity(0))
    expected = 0 if cores < 2 else min(cores, 4, 8)
    assert worker_processes(None, 8, PROCESSES_FROM) == expected


_ORPHANING_CALLER = """
import pickle, sys, time
from segur_ins.workers import LookupWorkers
recipe = pickle.loads(sys.stdin.buffer.read())
workers = LookupWorkers(recipe, processes=2, concurrency=2)
workers.start()
print(*workers.pids(), flush=True)
time.sleep(60)
"""


def _ended(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # a zombie has ended, only its reaping is left


def test_workers_end_when_their_caller_is_killed(make_segur_runtime):
    import pickle
    import subprocess
    import sys
    import time

    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    recipe = client_recipe(service(runtime).config, runtime)
    caller = subprocess.Popen([sys.executable, "-c", _ORPHANING_CALLER],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    caller.stdin.write(pickle.dumps(recipe))
    caller.stdin.close()
    pids = [int(pid) for pid in caller.stdout.readline().split()]
    assert len(pids) == 2 and not any(_ended(pid) for pid in pids)
    caller.kill()
    caller.wait()
    deadline = time.monotonic() + 20
    while not all(_ended(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_ended(pid) for pid in pids)  # no worker left behind, calling for nobody
