"""The database restarts under a running outbox and journal (a crash, or a failover to a
standby at the same address): the statement that meets the broken connection is tried
once more on a new one, the NOTIFY listener reconnects and wakes the workers, and
nothing queued before is lost or sent twice (docs/deployment.md, "Failover")."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from segur_core.model import DeliveryState
from segur_core.testing.postgres import PostgresServer

from .stores import make_store


def test_outbox_and_journal_carry_on_after_the_database_restarts(
    request: pytest.FixtureRequest, tmp_path: Path, postgresql_server: PostgresServer
) -> None:
    store = make_store(request, "postgresql", tmp_path)
    sent: Counter[str] = Counter()
    arrived = threading.Event()

    def send(item) -> None:
        sent[item.key] += 1
        if item.key == "after":
            arrived.set()

    with (
        store.outbox(senders={"x": send}, poll_interval=60, lease=2) as worker,
        store.outbox() as counter,
        store.journal() as journal,
    ):
        counter.enqueue("x", "before", b"queued before the restart")
        journal.record("patient.read", patient_id="p1")
        worker.start_worker()
        deadline = time.monotonic() + 10
        while sent["before"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)

        postgresql_server.restart()  # every pooled and listening connection breaks

        counter.enqueue("x", "after", b"queued after")  # retried on a new connection
        assert arrived.wait(15), "the listener did not reconnect, or the claim failed"
        journal.record("patient.read", patient_id="p1")
        report = journal.verify()
        assert report.ok and report.count == 2
        deadline = time.monotonic() + 10
        while counter.counts()[DeliveryState.DELIVERED] < 2:
            assert time.monotonic() < deadline, counter.counts()
            time.sleep(0.05)
    assert sent == {"before": 1, "after": 1}
