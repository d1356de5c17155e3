"""Eight worker processes draining one PostgreSQL outbox while some of them are killed
with SIGKILL: every item reaches the receiver, and the receiver acts on each once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from segur_core.model import DeliveryState

from .receiver import CountingReceiver
from .stores import Store, make_store

WORKER = Path(__file__).with_name("crash_worker.py")
WORKERS = 8
ITEMS = 160
KILLS = 4
LEASE = 1.0

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


@pytest.fixture
def postgresql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return make_store(request, "postgresql", tmp_path)


def _worker(store: Store, url: str) -> subprocess.Popen:
    argv = [str(WORKER), str(store.outbox_location), url, str(LEASE), store.tenant, "40"]
    return subprocess.Popen(
        [sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_eight_workers_killed_at_random_deliver_each_item_once(postgresql_store: Store) -> None:
    store = postgresql_store
    slow = random.Random(7)

    def hold(key: str, number: int) -> None:
        time.sleep(slow.uniform(0.0, 0.004))  # a peer that takes its time: kills land mid-send

    keys = [f"doc-{n:04d}" for n in range(ITEMS)]
    with store.outbox() as outbox:
        for key in keys:
            outbox.enqueue("http", key, f"payload of {key}".encode())

    killed = 0
    with CountingReceiver(hold=hold) as receiver:
        workers = [_worker(store, receiver.url) for _ in range(WORKERS)]
        try:
            chooser = random.Random(11)
            while killed < KILLS:
                time.sleep(0.25)
                with receiver.lock:
                    progress = sum(receiver.honoured.values())
                if progress >= ITEMS:
                    break
                victim = chooser.randrange(WORKERS)
                if workers[victim].poll() is None:
                    os.kill(workers[victim].pid, signal.SIGKILL)
                    assert workers[victim].wait(10) == -signal.SIGKILL
                    workers[victim].stderr.close()
                    killed += 1
                    workers[victim] = _worker(store, receiver.url)  # a new one takes its place
            for worker in workers:
                _out, err = worker.communicate(timeout=90)
                assert worker.returncode == 0, err.decode()
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.communicate()

    assert killed >= 1, "the workers finished before any was killed"
    with store.outbox() as outbox:
        deliveries = outbox.list()
        assert sorted(d.key for d in deliveries) == keys
        assert all(d.state is DeliveryState.DELIVERED for d in deliveries)
    assert set(receiver.honoured) == set(keys)
    assert all(count == 1 for count in receiver.honoured.values())
    assert all(receiver.bodies[k] == f"payload of {k}".encode() for k in keys)
    resent = {k for k, n in receiver.received.items() if n > 1}
    assert len(resent) <= killed * 8  # at most a batch in flight per worker killed
