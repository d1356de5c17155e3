"""The outbox's behaviour item by item: idempotence, retries, dead letters, leases,
operator actions, worker threads, and its wiring to a runtime (senders from plugins,
settlement events, journal)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segur_core import hookimpl
from segur_core.errors import PermanentDeliveryError, SegurError, TransientDeliveryError
from segur_core.model import DeliveryState
from segur_core.outbox import Backoff, Outbox, OutboxError, UnknownDeliveryError, classify
from segur_core.outbox.store import OutboxStore
from segur_core.plugin import PluginInfo

from .receiver import KEY_HEADER, CountingReceiver
from .stores import Store


class Clock:
    def __init__(self) -> None:
        self.now = 5_000.0

    def __call__(self) -> float:
        return self.now


class Script:
    """A sender that follows a script of outcomes per key (then succeeds)."""

    def __init__(self, **plans: list[BaseException]) -> None:
        self.plans = {key.replace("_", "-"): list(plan) for key, plan in plans.items()}
        self.calls: Counter[str] = Counter()

    def __call__(self, item) -> str:
        self.calls[item.key] += 1
        plan = self.plans.get(item.key)
        if plan:
            raise plan.pop(0)
        return f"ok:{item.key}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(store: Store, clock: Clock, **kwargs) -> Outbox:
    kwargs.setdefault("base_delay", 1.0)
    kwargs.setdefault("max_delay", 30.0)
    return store.outbox(clock=clock, **kwargs)


def test_enqueue_is_idempotent_on_the_key(store: Store, clock: Clock) -> None:
    with make(store, clock) as outbox:
        first = outbox.enqueue("dmp.iti41", "doc-1", b"v1", patient_id="p1")
        again = outbox.enqueue("dmp.iti41", "doc-1", b"v2")
        assert again.id == first.id and again.state is DeliveryState.PENDING
        assert outbox.payload(first.id) == b"v1"
        assert len(outbox.list()) == 1
        assert outbox.find("doc-1").patient_id == "p1"
        with pytest.raises(OutboxError, match="already used"):
            outbox.enqueue("mssante.smtp", "doc-1", b"v1")
    with make(store, clock) as reopened:  # idempotent across processes too
        assert reopened.enqueue("dmp.iti41", "doc-1", b"v3").id == first.id


def test_enqueue_refuses_bad_input(store: Store, clock: Clock) -> None:
    with make(store, clock) as outbox:
        with pytest.raises(OutboxError):
            outbox.enqueue("dmp", "", b"x")
        with pytest.raises(OutboxError):
            outbox.enqueue("dmp", "k", "not bytes")  # type: ignore[arg-type]
        with pytest.raises(UnknownDeliveryError):
            outbox.get(42)
        assert isinstance(UnknownDeliveryError("x"), SegurError)


def test_transient_failures_are_retried_with_backoff(store: Store, clock: Clock) -> None:
    sender = Script(
        doc_1=[TransientDeliveryError("503", service="dmp"), httpx.ConnectError("refused")]
    )
    with make(store, clock, senders={"dmp": sender}) as outbox:
        item = outbox.enqueue("dmp", "doc-1", b"x")
        assert outbox.deliver_due() == 1
        after_one = outbox.get(item.id)
        assert after_one.state is DeliveryState.PENDING and after_one.attempts == 1
        assert "503" in after_one.last_error
        assert outbox.deliver_due() == 0  # not due yet: backoff is at least 1 s
        clock.now += 2.01  # first delay is within [1, 2]
        assert outbox.deliver_due() == 1
        assert outbox.get(item.id).attempts == 2
        clock.now += 1.5  # second delay is within [2, 3]
        assert outbox.deliver_due() == 0
        clock.now += 1.51
        assert outbox.deliver_due() == 1
        done = outbox.get(item.id)
        assert done.state is DeliveryState.DELIVERED and done.result == "ok:doc-1"
        assert done.attempts == 3 and done.settled_at is not None


def test_exhausted_and_permanent_failures_are_dead_letters(store: Store, clock: Clock) -> None:
    sender = Script(
        doc_1=[TimeoutError("slow")] * 5,
        doc_2=[PermanentDeliveryError("invalid CDA", service="dmp", code="XDSRepositoryError")],
        doc_3=[KeyError("bug")],
    )
    with make(store, clock, senders={"dmp": sender}, max_attempts=3) as outbox:
        for key in ("doc-1", "doc-2", "doc-3"):
            outbox.enqueue("dmp", key, b"x")
        for _ in range(5):
            outbox.deliver_due()
            clock.now += 60
        one, two, three = outbox.list()
        assert one.state is DeliveryState.DEAD and one.attempts == 3
        assert "slow" in one.last_error and "no attempts left" in one.last_error
        assert two.state is DeliveryState.DEAD and two.attempts == 1
        assert "invalid CDA" in two.last_error and "XDSRepositoryError" in two.last_error
        assert three.state is DeliveryState.DEAD and "KeyError" in three.last_error
        assert sender.calls == {"doc-1": 3, "doc-2": 1, "doc-3": 1}
        assert outbox.list(DeliveryState.DEAD) == [one, two, three]


def test_failure_logs_hold_no_patient_identifier(
    store: Store, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A sender's error text may quote the patient (an MSSanté patient address is built
    on the INS): the outbox keeps it for the operator, the ordinary log only names it."""
    nir = "1850578006048"
    address = f"{nir}@patient.mssante.fr"
    sender = Script(
        doc_1=[OSError(f"connection for {address} reset"), ValueError(f"INS {nir} rejected")],
        doc_2=[smtplib.SMTPRecipientsRefused({address: (550, b"unknown mailbox")})],
    )
    with (
        caplog.at_level(logging.DEBUG, logger="segur.outbox"),
        make(store, clock, senders={"dmp": sender}) as outbox,
    ):
        outbox.enqueue("dmp", "doc-1", b"x", patient_id=nir)
        outbox.enqueue("dmp", "doc-2", b"x", patient_id=nir)
        for _ in range(3):
            outbox.deliver_due()
            clock.now += 60
        one, two = outbox.list()
        assert one.state is two.state is DeliveryState.DEAD
        assert nir in one.last_error and address in two.last_error  # for the operator
    assert "retry in" in caplog.text and "is dead" in caplog.text
    assert "OSError" in caplog.text and "SMTPRecipientsRefused" in caplog.text
    assert nir not in caplog.text


def test_retry_and_purge(store: Store, clock: Clock) -> None:
    sender = Script(doc_1=[PermanentDeliveryError("refused", service="dmp")])
    with make(store, clock, senders={"dmp": sender}) as outbox:
        dead = outbox.enqueue("dmp", "doc-1", b"x")
        done = outbox.enqueue("dmp", "doc-2", b"x")
        outbox.run_until_idle(timeout=5)
        assert outbox.get(dead.id).state is DeliveryState.DEAD
        with pytest.raises(OutboxError, match="delivered"):
            outbox.retry(done.id)
        revived = outbox.retry(dead.id)
        assert revived.state is DeliveryState.PENDING and revived.attempts == 0
        assert revived.settled_at is None
        assert outbox.run_until_idle(timeout=5)
        assert outbox.get(dead.id).state is DeliveryState.DELIVERED
        with pytest.raises(OutboxError, match="only delivered or dead"):
            outbox.purge(DeliveryState.PENDING)
        assert outbox.purge(older_than=dt.timedelta(hours=1)) == 0
        clock.now += 3601
        assert outbox.purge(older_than=dt.timedelta(hours=1)) == 2
        assert outbox.list() == []


def test_retry_makes_a_waiting_item_due_now(store: Store, clock: Clock) -> None:
    sender = Script(doc_1=[TransientDeliveryError("503", service="dmp")])
    with make(store, clock, senders={"dmp": sender}) as outbox:
        item = outbox.enqueue("dmp", "doc-1", b"x")
        outbox.deliver_due()
        assert outbox.deliver_due() == 0
        assert outbox.retry(item.id).attempts == 1
        assert outbox.deliver_due() == 1
        assert outbox.get(item.id).state is DeliveryState.DELIVERED


def test_lease_fences_a_worker_that_lost_its_item(store: Store, clock: Clock) -> None:
    outbox = store.outbox(clock=clock)
    store = outbox._store
    store.insert("dmp", "doc-1", b"x", None)
    (slow,) = store.claim("worker-a", limit=5, lease=10)
    assert store.claim("worker-b", limit=5, lease=10) == []  # held
    clock.now += 11
    (taken,) = store.claim("worker-b", limit=5, lease=10)
    assert taken.attempts == 2
    assert store.settle(slow, DeliveryState.DELIVERED) is None  # too late
    assert not store.reschedule(slow, 1.0, "late failure")
    assert store.extend([slow.id], slow.owner, 10) == set()
    settled = store.settle(taken, DeliveryState.DELIVERED, result="ok")
    assert settled is not None and settled.state is DeliveryState.DELIVERED
    assert store.settle(taken, DeliveryState.DEAD) is None  # settled states are final
    with pytest.raises(OutboxError):
        store.settle(taken, DeliveryState.PENDING)
    outbox.close()


def test_interrupted_last_attempt_is_a_dead_letter(store: Store, clock: Clock) -> None:
    sender = Script()
    with make(store, clock, senders={"dmp": sender}, max_attempts=2, lease=5) as outbox:
        item = outbox.enqueue("dmp", "doc-1", b"x")
        store = outbox._store
        for _ in range(2):  # two workers die while sending it
            store.claim("dying", limit=1, lease=5)
            clock.now += 6
        outbox.deliver_due()
        dead = outbox.get(item.id)
        assert dead.state is DeliveryState.DEAD and "interrupted" in dead.last_error
        assert sender.calls == {}


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (TransientDeliveryError("503", service="dmp"), True),
        (PermanentDeliveryError("bad", service="dmp"), False),
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (TimeoutError(), True),
        (ConnectionResetError("reset"), True),
        (socket.gaierror("dns"), True),
        (smtplib.SMTPServerDisconnected("bye"), True),
        (smtplib.SMTPResponseException(451, b"try later"), True),
        (smtplib.SMTPResponseException(554, b"rejected"), False),
        (smtplib.SMTPRecipientsRefused({"a@b": (550, b"no")}), False),
        (ValueError("bug"), False),
        (KeyError("bug"), False),
    ],
)
def test_classify(error: Exception, transient: bool) -> None:
    failure = classify(error)
    assert failure.transient is transient
    assert failure.message


@pytest.mark.parametrize(("status", "transient"), [(503, True), (429, True), (400, False)])
def test_classify_http_status(status: int, transient: bool) -> None:
    request = httpx.Request("POST", "https://dmp.example/feed")
    response = httpx.Response(status, request=request)
    error = httpx.HTTPStatusError("status", request=request, response=response)
    assert classify(error).transient is transient
    assert str(status) in classify(error).message


@given(base=st.floats(0.01, 10), maximum=st.floats(0.01, 600), attempts=st.integers(1, 64))
def test_backoff_grows_and_stays_bounded(base: float, maximum: float, attempts: int) -> None:
    backoff = Backoff(base, maximum)
    delay = backoff.delay(attempts)
    assert 0 <= delay <= maximum
    floor = min(maximum, base * 2 ** (attempts - 1))
    assert delay >= min(floor, 0.9 * maximum) - 1e-9  # jitter below the cap at the cap


def test_backoff_keeps_jitter_at_the_cap() -> None:
    """Items that failed together at the cap do not retry in step."""
    backoff = Backoff(1.0, 300.0)
    delays = {round(backoff.delay(30), 3) for _ in range(50)}
    assert len(delays) > 40 and min(delays) >= 270 and max(delays) <= 300


def test_worker_threads_of_two_processes_deliver_each_item_once(store: Store) -> None:
    with CountingReceiver() as receiver, httpx.Client() as client:

        def send(item) -> str:
            response = client.post(
                receiver.url, content=item.payload, headers={KEY_HEADER: item.key}
            )
            response.raise_for_status()
            return response.text

        one = store.outbox(senders={"http": send}, batch_size=4)
        two = store.outbox(senders={"http": send}, batch_size=4)
        try:
            one.start_worker(threads=2)
            two.start_worker(threads=2)
            keys = [f"k{n}" for n in range(200)]
            for n, key in enumerate(keys):
                (one if n % 2 else two).enqueue("http", key, key.encode())
            deadline = time.monotonic() + 20
            while one.counts()[DeliveryState.DELIVERED] < len(keys):
                assert time.monotonic() < deadline, one.counts()
                time.sleep(0.02)
        finally:
            one.close()
            two.close()
        assert not one.worker_running
    assert receiver.received == Counter(dict.fromkeys(keys, 1))


def test_worker_waits_for_work_and_stops(store: Store) -> None:
    delivered = threading.Event()
    with store.outbox(senders={"x": lambda item: delivered.set()}) as outbox:
        outbox.start_worker()
        time.sleep(0.05)
        outbox.enqueue("x", "late", b"")
        assert delivered.wait(5)
        outbox.stop_worker()
        assert not outbox.worker_running


def test_run_until_idle_times_out_while_work_remains(store: Store) -> None:
    def never(item):
        raise TransientDeliveryError("down", service="x")

    with store.outbox(senders={"x": never}, base_delay=0.01) as outbox:
        outbox.enqueue("x", "k", b"")
        outbox.enqueue("unknown-kind", "k2", b"")  # nobody sends it: not waited for
        assert not outbox.run_until_idle(timeout=0.2)
        assert outbox.get(1).attempts >= 2
        outbox.register_sender("x", lambda item: "fine")
        assert outbox.run_until_idle(timeout=5)
        assert outbox.find("k2").state is DeliveryState.PENDING


# -- with a runtime ------------------------------------------------------------------------


class Feeding:
    """A plugin that sends ``feed`` deliveries and watches settlements."""

    def __init__(self) -> None:
        self.settled: list = []
        self.failures = {"doc-bad": PermanentDeliveryError("refused", service="feed")}

    @hookimpl
    def segur_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="feeding", version="1.0")

    @hookimpl
    def segur_outbox_senders(self, runtime):
        return {"feed": self.send}

    def send(self, item) -> str:
        if item.key in self.failures:
            raise self.failures[item.key]
        return "stored"

    @hookimpl
    def on_delivery_settled(self, delivery, runtime):
        self.settled.append(delivery)


def test_runtime_wiring(make_segur_runtime) -> None:
    plugin = Feeding()
    runtime = make_segur_runtime(extra_plugins=[plugin])
    outbox = runtime.outbox
    good = outbox.enqueue("feed", "doc-good", b"<ClinicalDocument/>", patient_id="patient-9")
    bad = outbox.enqueue("feed", "doc-bad", b"<ClinicalDocument/>", patient_id="patient-9")
    assert outbox.run_until_idle(timeout=10)
    assert [(d.id, d.state) for d in plugin.settled] == [
        (good.id, DeliveryState.DELIVERED),
        (bad.id, DeliveryState.DEAD),
    ]
    outbox.deliver_due()  # nothing is announced twice
    assert len(plugin.settled) == 2
    records = runtime.journal.records(patient_id="patient-9")
    assert [(r.action, r.outcome, r.service) for r in records] == [
        ("outbox.attempt", "delivered", "feed"),
        ("outbox.attempt", "dead", "feed"),
    ]
    assert records[1].details["key"] == "doc-bad" and "refused" in records[1].details["error"]
    outbox.retry(bad.id)
    plugin.failures.clear()
    assert outbox.run_until_idle(timeout=10)
    assert [d.state for d in plugin.settled][-1] is DeliveryState.DELIVERED
    assert runtime.journal.verify().ok


def test_settlement_lost_in_a_crash_is_announced_by_the_next_worker(
    make_segur_runtime, tmp_path: Path
) -> None:
    plugin = Feeding()
    runtime = make_segur_runtime(extra_plugins=[plugin])
    clock = Clock()
    path = runtime.data_dir / "other-outbox.sqlite"
    store = OutboxStore(path, clock=clock)
    store.insert("feed", "doc-1", b"x", None)
    (item,) = store.claim("died-after-settling", limit=1, lease=30)
    store.settle(item, DeliveryState.DELIVERED, result="stored")  # then the process died
    store.close()
    with Outbox(path, runtime=runtime, clock=clock, lease=30) as outbox:
        outbox.deliver_due()
        assert plugin.settled == []  # its worker may still be announcing it
        clock.now += 31
        outbox.deliver_due()
        outbox.deliver_due()
        assert [d.key for d in plugin.settled] == ["doc-1"]


def test_background_worker_announces_lost_settlements(make_segur_runtime) -> None:
    plugin = Feeding()
    runtime = make_segur_runtime(extra_plugins=[plugin])
    path = runtime.data_dir / "swept-outbox.sqlite"
    store = OutboxStore(path, clock=time.time)
    store.insert("feed", "doc-1", b"x", None)
    (item,) = store.claim("died-after-settling", limit=1, lease=0.3)
    store.settle(item, DeliveryState.DELIVERED, result="stored")
    store.close()
    with Outbox(path, runtime=runtime, lease=0.3, poll_interval=0.05) as outbox:
        outbox.start_worker()
        assert plugin.settled == []  # too recent when the worker started
        deadline = time.monotonic() + 10
        while not plugin.settled:
            assert time.monotonic() < deadline, "never announced"
            time.sleep(0.02)
        time.sleep(0.4)  # a later sweep does not announce it again
        assert [d.key for d in plugin.settled] == ["doc-1"]


def test_run_until_idle_with_no_sender_registered(tmp_path) -> None:
    """An LGO with no sending plugin may still drain: nothing is claimed, nothing fails."""
    from segur_core.outbox import Outbox

    outbox = Outbox(tmp_path / "outbox.sqlite")
    outbox.enqueue("nobody.sends", "key-1", b"payload")
    assert outbox.run_until_idle(timeout=1.0) is True  # idle: no kind has a sender
    assert outbox.get(1).state == "pending"  # kept for the plugin that will send it


def test_an_item_queued_on_another_machine_wakes_the_workers_at_once(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """PostgreSQL NOTIFY: a worker idle for a long poll interval starts at once on an
    item another process queued (the SQLite outbox would wait for the poll)."""
    from .stores import make_store

    store = make_store(request, "postgresql", tmp_path)
    delivered = threading.Event()
    with (
        store.outbox(senders={"x": lambda item: delivered.set()}, poll_interval=60) as worker,
        store.outbox() as elsewhere,
        store.for_tenant("999990021").outbox() as other_pharmacy,
    ):
        worker.start_worker()
        time.sleep(0.3)  # the worker is idle, its listener connected
        other_pharmacy.enqueue("x", "not-ours", b"")
        assert not delivered.wait(0.5)  # another pharmacy's item wakes nobody here
        started = time.monotonic()
        elsewhere.enqueue("x", "k", b"")
        assert delivered.wait(10)
        assert time.monotonic() - started < 5
