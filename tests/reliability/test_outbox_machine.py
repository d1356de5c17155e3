"""A stateful hypothesis test of the outbox: enqueue (with duplicate keys), deliver, fail
transiently or for good, crash mid-flight, restart — and check that nothing is lost,
nothing is delivered twice, and states only move forward."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import httpx
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from segur_core.errors import PermanentDeliveryError, TransientDeliveryError
from segur_core.journal import Journal
from segur_core.model import DeliveryState
from segur_core.outbox import Outbox, OutboxError

from .stores import Store, random_tenant

KEYS = [f"doc-{n}" for n in range(7)]
KIND = "test.deliver"
MAX_ATTEMPTS = 3
LEASE = 30.0
RANK = {
    DeliveryState.PENDING: 0,
    DeliveryState.IN_FLIGHT: 1,
    DeliveryState.DELIVERED: 2,
    DeliveryState.DEAD: 2,
}


class SimulatedCrash(BaseException):
    """The process dies: nothing after this point runs (not an ``Exception``)."""


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Receiver:
    """A peer that honours the idempotency key: it acts on the first copy only."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.honoured: Counter[str] = Counter()
        self.payloads: dict[str, bytes] = {}

    def receive(self, key: str, payload: bytes) -> None:
        self.received[key] += 1
        if key not in self.honoured:
            self.honoured[key] += 1
            self.payloads[key] = payload


class FakeRuntime:
    """What the outbox uses of a runtime: senders, settlement events, the journal."""

    def __init__(self, machine: OutboxMachine, journal: Journal) -> None:
        self.machine = machine
        self.journal = journal
        self.settled: Counter[int] = Counter()

    def outbox_senders(self) -> dict:
        return {KIND: self.machine.send}

    def delivery_settled(self, delivery) -> None:
        if self.machine.mode == "crash-on-settle":
            self.machine.mode = "ok"
            raise SimulatedCrash
        assert delivery.state.settled
        self.settled[delivery.id] += 1


class OutboxMachine(RuleBasedStateMachine):
    #: Where each example's outbox lives (set by the test, per backend): a SQLite file in
    #: a new directory, or a new pharmacy (tenant) of one PostgreSQL database.
    store: Store | None = None

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="segur-outbox-machine-"))
        base = self.store or Store("sqlite", self.dir)
        self.location = (
            Store("sqlite", self.dir) if base.url is None else base.for_tenant(random_tenant())
        )
        self.clock = Clock()
        self.receiver = Receiver()
        self.journal = Journal(self.dir / "journal.sqlite", pseudonym_key=b"k" * 32)
        self.runtime = FakeRuntime(self, self.journal)
        self.mode = "ok"
        self.ids: dict[str, int] = {}
        self.payloads: dict[str, bytes] = {}
        self.ok_returns: Counter[str] = Counter()
        self.retries: Counter[int] = Counter()
        self.seen: dict[int, tuple[DeliveryState, int]] = {}
        self.abandoned: list[Outbox] = []
        self.outbox = self._open()

    def _open(self) -> Outbox:
        return self.location.outbox(
            runtime=self.runtime,
            max_attempts=MAX_ATTEMPTS,
            base_delay=1.0,
            max_delay=8.0,
            lease=LEASE,
            batch_size=3,
            clock=self.clock,
        )

    # -- the receiving side ----------------------------------------------------------------

    def send(self, item) -> str:
        assert item.kind == KIND
        assert self.ids[item.key] == item.id, "the sender got an item under a foreign key"
        assert item.payload == self.payloads[item.key], "the payload changed"
        assert self.outbox.get(item.id).state is DeliveryState.IN_FLIGHT
        assert self.ok_returns[item.key] == 0, f"{item.key} sent again after it was delivered"
        mode = self.mode
        if mode in ("crash-before", "crash-after"):
            self.mode = "ok"  # the next process starts with a healthy peer
        if mode == "crash-before":
            raise SimulatedCrash
        if mode == "transient":
            raise TransientDeliveryError("503 Service Unavailable", service="test")
        if mode == "permanent":
            raise PermanentDeliveryError("document refused", service="test")
        if mode == "bug":
            raise ValueError("unexpected answer")
        self.receiver.receive(item.key, item.payload)
        if mode == "timeout-after":  # the peer acted but the answer was lost
            raise httpx.ReadTimeout("read timed out")
        if mode == "crash-after":
            raise SimulatedCrash
        self.ok_returns[item.key] += 1
        return "accepted"

    # -- rules -----------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        assert self.outbox.list() == []

    @rule(key=st.sampled_from(KEYS), payload=st.binary(max_size=6))
    def enqueue(self, key: str, payload: bytes) -> None:
        delivery = self.outbox.enqueue(KIND, key, payload, patient_id="patient-1")
        if key in self.ids:
            assert delivery.id == self.ids[key], "a duplicate key created a second item"
        else:
            assert delivery.state is DeliveryState.PENDING
            self.ids[key] = delivery.id
            self.payloads[key] = payload

    @rule(
        mode=st.sampled_from(["ok", "ok", "transient", "permanent", "bug", "timeout-after"]),
        limit=st.integers(1, 6),
        rounds=st.integers(1, 4),
    )
    def deliver(self, mode: str, limit: int, rounds: int) -> None:
        """Deliver what is due, ``rounds`` times, letting retry delays pass in between."""
        self.mode = mode
        for round_ in range(rounds):
            if round_:
                self.clock.now += 10.0
            self.outbox.deliver_due(limit=limit)

    @rule(mode=st.sampled_from(["crash-before", "crash-after", "crash-on-settle"]))
    def crash(self, mode: str) -> None:
        """The worker process dies mid-flight; a new one opens the same file."""
        self.mode = mode
        with contextlib.suppress(SimulatedCrash):
            self.outbox.deliver_due(limit=1)
        self.mode = "ok"
        # the old object is abandoned without any cleanup (its files are only closed at
        # teardown, so that no unclosed-connection warning fires mid-run)
        self.abandoned.append(self.outbox)
        self.outbox = self._open()

    @rule()
    def restart(self) -> None:
        self.outbox.close()
        self.outbox = self._open()

    @rule(seconds=st.sampled_from([0.5, 2.0, 9.0, LEASE + 1]))
    def advance_clock(self, seconds: float) -> None:
        self.clock.now += seconds

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.ids)), label="key")
        ident = self.ids[key]
        before = self.outbox.get(ident)
        if before.state in (DeliveryState.DEAD, DeliveryState.PENDING):
            after = self.outbox.retry(ident)
            assert after.state is DeliveryState.PENDING
            if before.state is DeliveryState.DEAD:
                self.retries[ident] += 1
                self.seen[ident] = (DeliveryState.PENDING, 0)
        else:
            with pytest.raises(OutboxError):
                self.outbox.retry(ident)
            assert self.outbox.get(ident).state is before.state

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def nothing_lost(self) -> None:
        for key, ident in self.ids.items():
            found = self.outbox.find(key)
            assert found is not None and found.id == ident, f"{key} was lost"
        assert len(self.outbox.list()) == len(self.ids)

    @invariant()
    def nothing_delivered_twice(self) -> None:
        assert all(n <= 1 for n in self.receiver.honoured.values())
        assert all(n <= 1 for n in self.ok_returns.values())

    @invariant()
    def states_only_move_forward(self) -> None:
        for delivery in self.outbox.list():
            state, attempts = delivery.state, delivery.attempts
            if delivery.id in self.seen:
                old_state, old_attempts = self.seen[delivery.id]
                assert attempts >= old_attempts, "attempts went down"
                assert attempts <= MAX_ATTEMPTS + 1
                if old_state.settled:
                    assert state is old_state, f"{old_state} became {state}"
                elif RANK[state] < RANK[old_state]:
                    assert (old_state, state) == (DeliveryState.IN_FLIGHT, DeliveryState.PENDING)
            if state is DeliveryState.DELIVERED:
                assert self.receiver.honoured[delivery.key] == 1
                assert self.receiver.payloads[delivery.key] == self.payloads[delivery.key]
            if state is DeliveryState.PENDING:
                assert attempts < MAX_ATTEMPTS, "an item with no attempts left is pending"
            if state is DeliveryState.DEAD:
                assert delivery.last_error
            self.seen[delivery.id] = (state, attempts)

    @invariant()
    def settlements_announced_at_most_once(self) -> None:
        for ident, count in self.runtime.settled.items():
            assert count <= 1 + self.retries[ident]

    def teardown(self) -> None:
        try:
            self._drain_and_check()
        finally:
            self.outbox.close()
            for outbox in self.abandoned:
                outbox.close()
            self.journal.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    def _drain_and_check(self) -> None:
        """With a healthy peer and enough time, everything settles, once."""
        self.mode = "ok"
        for _ in range(MAX_ATTEMPTS + 3):
            self.clock.now += LEASE + 10
            self.outbox.deliver_due()
        deliveries = self.outbox.list()
        assert all(d.state.settled for d in deliveries), "items left unsettled"
        for delivery in deliveries:
            assert self.runtime.settled[delivery.id] == 1 + self.retries[delivery.id]
            if delivery.state is DeliveryState.DELIVERED:
                assert self.ok_returns[delivery.key] == 1
        for key, count in self.receiver.received.items():
            if count > 1:  # only a lost answer or a crash after receipt explains a resend
                assert self.receiver.honoured[key] == 1
        assert self.journal.verify().ok


def test_outbox_machine(store: Store) -> None:
    """The machine on each backend (on PostgreSQL, each example a new pharmacy; fewer
    examples there, each opening pools and connections: the CI budget)."""
    OutboxMachine.store = store
    examples = 100 if store.url is None else 15
    try:
        run_state_machine_as_test(
            OutboxMachine,
            settings=settings(stateful_step_count=30, deadline=None, max_examples=examples),
        )
    finally:
        OutboxMachine.store = None
