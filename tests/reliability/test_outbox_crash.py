"""A worker process killed with SIGKILL in the middle of a batch: after a restart every
item reaches the receiver exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from segur_core.model import DeliveryState

from .receiver import CountingReceiver
from .stores import Store

WORKER = Path(__file__).with_name("crash_worker.py")
ITEMS = 120
KILL_AT = 45  # the receiver holds the answer to the 45th item until the worker is dead
LEASE = 1.0

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _worker(store: Store, url: str) -> subprocess.Popen:
    argv = [str(WORKER), str(store.outbox_location), url, str(LEASE), store.tenant]
    return subprocess.Popen(
        [sys.executable, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_killed_worker_restarts_and_delivers_each_item_once(store: Store) -> None:
    held = threading.Event()
    release = threading.Event()
    held_keys: list[str] = []

    def hold(key: str, number: int) -> None:
        if number == KILL_AT and not held_keys:
            held_keys.append(key)  # acted on, but the worker will never see the answer
            held.set()
            release.wait(30)

    with store.outbox() as outbox:
        keys = [f"doc-{n:04d}" for n in range(ITEMS)]
        for key in keys:
            outbox.enqueue("http", key, f"payload of {key}".encode())

    with CountingReceiver(hold=hold) as receiver:
        first = _worker(store, receiver.url)
        try:
            assert held.wait(20), first.stderr.read().decode() if first.poll() else "no progress"
            os.kill(first.pid, signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
        finally:
            release.set()
            if first.poll() is None:
                first.kill()
            first.wait()
            first.stdout.close()
            first.stderr.close()

        with store.outbox() as outbox:
            counts = outbox.counts()
            (held_key,) = held_keys
            assert outbox.find(held_key).state is DeliveryState.IN_FLIGHT
        assert counts[DeliveryState.DELIVERED] == KILL_AT - 1, counts  # mid-batch
        assert (
            counts[DeliveryState.PENDING] + counts[DeliveryState.IN_FLIGHT] == ITEMS - KILL_AT + 1
        )

        second = _worker(store, receiver.url)
        _out, err = second.communicate(timeout=30)
        assert second.returncode == 0, err.decode()

    with store.outbox() as outbox:
        deliveries = outbox.list()
        assert [d.key for d in deliveries] == keys
        assert all(d.state is DeliveryState.DELIVERED for d in deliveries)
        assert outbox.find(held_key).attempts == 2
    # exactly once where it matters: each key honoured once, with its own payload
    assert set(receiver.honoured) == set(keys)
    assert all(count == 1 for count in receiver.honoured.values())
    assert all(receiver.bodies[k] == f"payload of {k}".encode() for k in keys)
    # only the item in flight at the kill was sent twice; the receiver honoured the key
    assert {k: n for k, n in receiver.received.items() if n > 1} == {held_key: 2}
