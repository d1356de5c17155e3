"""``Runtime.service``: a plugin's long-lived service, made once per runtime and closed
with it, before its sandboxes stop."""

from __future__ import annotations

import threading
import time

import pytest

from segur_core import hookimpl
from segur_core.errors import RuntimeClosedError


class Pool:
    """A service with a ``close()`` method, recording the order things close in."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.closed = 0

    def close(self) -> None:
        self.closed += 1
        self.log.append(f"close {self.name}")


class Sandbox:
    def __init__(self, log: list[str]) -> None:
        self.name = "box"
        self.log = log

    def start(self) -> None:
        self.log.append("start box")

    def stop(self) -> None:
        self.log.append("stop box")


def test_made_once_per_runtime(make_segur_runtime):
    first, second = make_segur_runtime(), make_segur_runtime()
    made: list[object] = []

    def factory() -> object:
        made.append(object())
        return made[-1]

    one = first.service("example", factory)
    assert first.service("example", factory) is one
    other = second.service("example", factory)
    assert other is not one and len(made) == 2
    assert first.service("example.other", factory) is made[2]  # another key, another one


def test_closing_the_runtime_closes_services_latest_first_before_sandboxes(
    make_segur_runtime,
):
    log: list[str] = []

    class WithSandbox:
        @hookimpl
        def segur_sandboxes(self, runtime):
            return [Sandbox(log)]

    runtime = make_segur_runtime(extra_plugins=[("sb", WithSandbox())])
    runtime.sandbox("box")
    first = runtime.service("a", lambda: Pool("a", log))
    second = runtime.service("b", lambda: Pool("b", log))
    runtime.close()
    runtime.close()
    assert log == ["start box", "close b", "close a", "stop box"]
    assert (first.closed, second.closed) == (1, 1)  # once, however often the runtime closes


def test_an_explicit_closer_and_a_service_with_nothing_to_close(make_segur_runtime):
    runtime = make_segur_runtime()
    closed: list[object] = []
    plain = runtime.service("plain", dict)
    conn = runtime.service("conn", lambda: ["a connection"], close=closed.append)
    runtime.close()
    assert closed == [conn]
    assert plain == {}


def test_a_service_made_from_another_closes_first(make_segur_runtime):
    runtime = make_segur_runtime()
    log: list[str] = []

    def client() -> Pool:
        runtime.service("pool", lambda: Pool("pool", log))  # the lock is re-entrant
        return Pool("client", log)

    runtime.service("client", client)
    runtime.close()
    assert log == ["close client", "close pool"]


def test_a_failing_factory_keeps_nothing_and_runs_again(make_segur_runtime):
    runtime = make_segur_runtime()
    log: list[str] = []
    attempts: list[int] = []

    def flaky() -> Pool:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("service down")
        return Pool("flaky", log)

    with pytest.raises(ConnectionError, match="service down"):
        runtime.service("flaky", flaky)
    made = runtime.service("flaky", flaky)
    assert runtime.service("flaky", flaky) is made and len(attempts) == 2
    runtime.close()
    assert log == ["close flaky"]  # registered once, for the object that exists


def test_after_close_a_typed_error(make_segur_runtime):
    runtime = make_segur_runtime()
    made = runtime.service("example", dict)
    runtime.close()
    with pytest.raises(RuntimeClosedError, match="the runtime is closed: no service 'example'"):
        runtime.service("example", dict)
    with pytest.raises(RuntimeClosedError):
        runtime.service("never-made", dict)
    assert made == {}


def test_concurrent_first_calls_run_the_factory_once(make_segur_runtime):
    runtime = make_segur_runtime()
    threads = 16
    calls: list[int] = []
    start = threading.Barrier(threads)

    def slow() -> object:
        calls.append(1)
        time.sleep(0.05)  # every other thread asks meanwhile
        return object()

    got: list[object] = []

    def ask() -> None:
        start.wait()
        got.append(runtime.service("slow", slow))

    workers = [threading.Thread(target=ask) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(calls) == 1
    assert len(got) == threads and all(g is got[0] for g in got)


def test_a_runtime_closing_while_a_service_is_asked_for(make_segur_runtime):
    """Each caller gets the service, or RuntimeClosedError; every service made is
    closed."""
    for _ in range(20):
        runtime = make_segur_runtime()
        log: list[str] = []
        outcomes: list[object] = []
        go = threading.Barrier(2)

        def ask(runtime=runtime, log=log, outcomes=outcomes, go=go) -> None:
            go.wait()
            try:
                outcomes.append(runtime.service("pool", lambda: Pool("pool", log)))
            except RuntimeClosedError as exc:
                outcomes.append(exc)

        worker = threading.Thread(target=ask)
        worker.start()
        go.wait()
        runtime.close()
        worker.join()
        (outcome,) = outcomes
        if isinstance(outcome, Pool):
            assert outcome.closed == 1
        else:
            assert log == []


def test_the_outbox_worker_stops_before_services_close(make_segur_runtime):
    """A delivery in flight when the runtime closes finishes with its client open, and
    its settlement reaches the plugin: the worker stops first, then services close."""
    log: list[str] = []
    sending = threading.Event()
    seen: list[str] = []
    settled: list[str] = []

    class Sending:
        @hookimpl
        def segur_outbox_senders(self, runtime):
            def send(item):
                client = runtime.service("sending", lambda: Pool("client", log))
                sending.set()
                time.sleep(0.3)  # the runtime closes meanwhile
                seen.append("closed" if client.closed else "open")
                return "sent"

            return {"test.kind": send}

        @hookimpl
        def on_delivery_settled(self, delivery, runtime):
            runtime.service("sending", lambda: Pool("client", log))
            settled.append(str(delivery.state))

    runtime = make_segur_runtime(extra_plugins=[("sending", Sending())])
    runtime.outbox.enqueue("test.kind", "item-1", b"payload")
    runtime.outbox.start_worker()
    assert sending.wait(10)
    runtime.close()
    assert seen == ["open"]
    assert settled == ["delivered"]
    assert runtime.plugins["sending"].stats.failures == 0
    assert log == ["close client"]
