"""A send that outlasts the lease is not sent twice: the worker renews its lease while it
sends (fenced on the lease owner), so that concurrent worker processes never take over
an item that is still being sent."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from segur_core.model import DeliveryState
from segur_core.outbox.lease import LeaseRenewer

from .receiver import CountingReceiver
from .stores import Store

WORKER = Path(__file__).with_name("crash_worker.py")
KEYS = [f"slow-{n}" for n in range(4)]


def test_sends_longer_than_the_lease_are_sent_once_by_concurrent_processes(
    tmp_path: Path,
) -> None:
    """4 items, each send taking 1 s at a real loopback receiver, 3 worker processes with
    a 0.5 s lease (before: 6 extra POSTs on the 4 keys). On SQLite only (the CI budget):
    the renewal is the store's ``extend``, which the next test fences on both."""
    store = Store("sqlite", tmp_path)
    with store.outbox() as outbox:
        for key in KEYS:
            outbox.enqueue("http", key, key.encode())
    with CountingReceiver(hold=lambda key, number: time.sleep(1.0)) as receiver:
        argv = [str(WORKER), str(store.outbox_location), receiver.url, "0.5", store.tenant]
        workers = [
            subprocess.Popen(
                [sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(3)
        ]
        for worker in workers:
            _out, err = worker.communicate(timeout=60)
            assert worker.returncode == 0, err.decode()[-2000:]
    assert receiver.received == Counter(dict.fromkeys(KEYS, 1))
    with store.outbox() as outbox:
        assert {d.state for d in outbox.list()} == {DeliveryState.DELIVERED}


def test_a_worker_whose_lease_was_taken_over_cannot_renew_or_settle(store: Store) -> None:
    clock = [1000.0]
    outbox = store.outbox(clock=lambda: clock[0])
    store = outbox._store
    store.insert("x", "k", b"x", None)
    (mine,) = store.claim("stalled", limit=1, lease=0.5)
    renewer = LeaseRenewer(store, 0.5)
    with renewer.keep([mine.id], "stalled") as keeper:
        assert keeper.holds(mine.id)
        clock[0] += 10  # the worker stalled (a paused VM, a stopped process)
        (theirs,) = store.claim("other", limit=1, lease=0.5)
        time.sleep(0.4)  # the renewer's next renewal is refused: the item is not its own
        assert not keeper.holds(mine.id)
    renewer.stop()
    assert store.settle(mine, DeliveryState.DELIVERED) is None
    assert store.settle(theirs, DeliveryState.DELIVERED) is not None
    outbox.close()
