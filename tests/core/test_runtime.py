"""The runtime: event isolation, decisions propagating, host facade, tracing."""

from __future__ import annotations

import logging

import pytest

from segur_core import hookimpl
from segur_core.errors import ConformanceError, PluginError
from segur_core.model import BirthDate, CardReading, IdentityTraits
from segur_core.runtime import create_runtime

from .plugins_for_tests import Counting, Deciding, Exploding


def reading() -> CardReading:
    traits = IdentityTraits(
        birth_name="MARTIN", first_names=("CLAIRE",), sex="F", birth_date=BirthDate(1975, 1, 1)
    )
    return CardReading(source="manual", traits=traits, nir="275017512345678")


def test_event_failure_is_contained_counted_and_journaled(make_segur_runtime, caplog):
    before, after = Counting("before"), Counting("after")
    runtime = make_segur_runtime(extra_plugins=[before, Exploding(), after])
    r = reading()
    with caplog.at_level(logging.DEBUG):
        assert runtime.card_read(r) is None
    assert before.events == [("on_card_read", r)]
    assert after.events == [("on_card_read", r)]
    stats = runtime.plugins["exploding"].stats
    assert (stats.calls, stats.failures) == (1, 1)
    assert stats.last_error.startswith("ValueError at ")
    assert runtime.plugins["before"].stats.failures == 0
    failures = [rec for rec in runtime.journal.records() if rec.action == "plugin.failure"]
    assert len(failures) == 1
    assert failures[0].details["plugin"] == "exploding"
    assert failures[0].details["hook"] == "on_card_read"
    # no patient data in logs or in the journal record
    assert Exploding.SECRET not in caplog.text
    assert "MARTIN" not in caplog.text
    assert Exploding.SECRET not in str(failures[0].details)
    assert "exploding" in caplog.text
    health = runtime.plugin_health()
    assert health["exploding"]["failures"] == 1


def test_decision_hook_failure_propagates(make_segur_runtime):
    runtime = make_segur_runtime(extra_plugins=[Deciding()])
    with pytest.raises(RuntimeError, match="decision failed"):
        runtime.ins_oid()


def test_host_facade_uses_the_reference_host(segur_runtime):
    structure = segur_runtime.host.structure()
    assert structure.finess
    assert segur_runtime.host.get_patient("does-not-exist") is None
    assert segur_runtime.host.find_patients(birth_name="NOBODY") == []


def test_host_facade_without_host_raises_conformance_error(tmp_path, monkeypatch):
    class NoHost:
        @hookimpl
        def host_get_patient(self, patient_id):
            return None

    with create_runtime(data_dir=tmp_path, host=NoHost(), autoload=False) as runtime:
        with pytest.raises(ConformanceError, match="no host implements host_structure"):
            runtime.host.structure()
        assert runtime.host.get_patient("1") is None


def test_host_returning_nothing_for_mandatory_value(tmp_path):
    class LazyHost:
        @hookimpl
        def host_practitioner(self):
            return None

    runtime = create_runtime(data_dir=tmp_path, host=LazyHost(), autoload=False)
    with runtime, pytest.raises(ConformanceError, match="mandatory"):
        runtime.host.practitioner()


def test_tracing_logs_each_hook_call(make_segur_runtime, caplog):
    runtime = make_segur_runtime(extra_plugins=[Counting(), Exploding()], trace=True)
    with caplog.at_level(logging.INFO, logger="segur.trace"):
        runtime.card_read(reading())
    traced = [r for r in caplog.records if r.name == "segur.trace"]
    outcomes = {(r.plugin, r.hook, r.outcome) for r in traced}
    assert ("counting", "on_card_read", "ok") in outcomes
    assert ("exploding", "on_card_read", "error") in outcomes
    assert all(" ms " in r.getMessage() for r in traced)


def test_tracing_from_environment(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SEGUR_TRACE", "1")
    rt = create_runtime(data_dir=tmp_path, autoload=False, extra_plugins=[Counting()])
    with rt, caplog.at_level(logging.INFO, logger="segur.trace"):
        rt.card_read(reading())
    assert any(r.name == "segur.trace" for r in caplog.records)


def test_plugin_config_of_unknown_plugin(segur_runtime):
    with pytest.raises(PluginError):
        segur_runtime.plugin_config("nope")


def test_hook_recorder_records_calls(segur_runtime, hook_recorder):
    r = reading()
    segur_runtime.card_read(r)
    call = hook_recorder.one("on_card_read")
    assert call.kwargs["reading"] is r
    assert call.result == []


def test_close_is_idempotent(make_segur_runtime):
    runtime = make_segur_runtime()
    runtime.close()
    runtime.close()
    assert runtime.closed


class Raising:
    def __init__(self, name, log):
        self.name, self.log = name, log

    @hookimpl
    def on_delivery_settled(self, delivery):
        self.log.append(self.name)
        raise RuntimeError(self.name)


class Quiet:
    def __init__(self, name, log):
        self.name, self.log = name, log

    @hookimpl
    def on_delivery_settled(self, delivery):
        self.log.append(self.name)


class Wrapping:
    def __init__(self, log):
        self.log = log

    @hookimpl(wrapper=True)
    def on_delivery_settled(self, delivery):
        self.log.append("wrapper-in")
        try:
            return (yield)
        finally:
            self.log.append("wrapper-out")


def test_every_plugin_runs_once_whatever_fails(make_segur_runtime):
    from segur_core.model import Delivery

    log: list[str] = []
    plugins = [
        ("q1", Quiet("q1", log)),
        ("r1", Raising("r1", log)),
        ("q2", Quiet("q2", log)),
        ("r2", Raising("r2", log)),
        ("q3", Quiet("q3", log)),
    ]
    runtime = make_segur_runtime(extra_plugins=plugins)
    delivery = Delivery(id=1, kind="k", key="key", state="delivered")
    runtime.delivery_settled(delivery)
    # pluggy calls the last registered first; each plugin exactly once
    assert log == ["q3", "r2", "q2", "r1", "q1"]
    assert {n: runtime.plugins[n].stats.failures for n, _ in plugins} == {
        "q1": 0,
        "r1": 1,
        "q2": 0,
        "r2": 1,
        "q3": 0,
    }
    runtime.delivery_settled(delivery)
    assert runtime.plugins["r1"].stats.as_dict()["calls"] == 2
    assert runtime.plugins["r1"].stats.failures == 2
    journaled = [r.details["plugin"] for r in runtime.journal.records()]
    assert sorted(journaled) == ["r1", "r1", "r2", "r2"]


def test_containment_with_a_hook_wrapper(make_segur_runtime):
    from segur_core.model import Delivery

    log: list[str] = []
    runtime = make_segur_runtime(
        extra_plugins=[("q1", Quiet("q1", log)), ("r1", Raising("r1", log)), ("w", Wrapping(log))]
    )
    runtime.delivery_settled(Delivery(id=1, kind="k", key="key", state="dead"))
    assert log == ["wrapper-in", "r1", "wrapper-out", "q1"]
    assert runtime.plugins["r1"].stats.failures == 1


def test_failure_in_a_nested_event_is_charged_to_the_right_plugin(make_segur_runtime):
    """A plugin that dispatches another event from its handler: the inner failure is
    contained inside the inner dispatch and the outer handler goes on."""
    from segur_core.model import Delivery

    log: list[str] = []

    class Relaying:
        @hookimpl
        def on_card_read(self, reading, runtime):
            runtime.delivery_settled(Delivery(id=2, kind="k", key="n", state="delivered"))
            log.append("relayed")

    runtime = make_segur_runtime(extra_plugins=[("relay", Relaying()), ("r1", Raising("r1", log))])
    runtime.card_read(reading())
    assert log == ["r1", "relayed"]
    assert runtime.plugins["r1"].stats.failures == 1
    assert runtime.plugins["relay"].stats.failures == 0


def test_a_bug_in_the_call_itself_is_not_swallowed(make_segur_runtime):
    runtime = make_segur_runtime(extra_plugins=[Counting()])
    runtime._on_card_read = None  # simulate a broken dispatch, not a plugin failure
    with pytest.raises(TypeError):
        runtime.card_read(reading())


class FakeSandbox:
    """A sandbox that only records its life cycle."""

    def __init__(self, name, log):
        self.name, self.log = name, log

    @property
    def url(self):
        return f"https://127.0.0.1/{self.name}"

    def start(self):
        self.log.append(("start", self.name))

    def stop(self):
        self.log.append(("stop", self.name))


def test_close_callbacks_run_last_registered_first_and_a_failure_is_logged(
    make_segur_runtime, caplog
):
    runtime = make_segur_runtime()
    called = []

    def failing():
        called.append("failing")
        raise RuntimeError("boom")

    runtime.on_close(lambda: called.append("first"))
    runtime.on_close(failing)
    runtime.on_close(lambda: called.append("last"))
    with caplog.at_level(logging.WARNING):
        runtime.close()
        runtime.close()
    assert called == ["last", "failing", "first"]  # once each, whatever raised
    assert "close callback failed: RuntimeError" in caplog.text


def test_sandbox_started_on_first_use_and_stopped_on_close(make_segur_runtime):
    log: list[tuple[str, str]] = []

    class WithSandboxes:
        @hookimpl
        def segur_sandboxes(self, runtime):
            return [FakeSandbox("insi", log), FakeSandbox("dmp", log)]

    runtime = make_segur_runtime(extra_plugins=[("sb", WithSandboxes())])
    assert [s.name for s in runtime.sandboxes()] == ["insi", "dmp"]
    assert log == []
    first = runtime.sandbox("dmp")
    assert runtime.sandbox("dmp") is first
    assert log == [("start", "dmp")]
    with pytest.raises(PluginError, match="no enabled plugin provides a sandbox named 'nope'"):
        runtime.sandbox("nope")
    runtime.close()
    assert log == [("start", "dmp"), ("stop", "dmp")]


def test_test_pki_is_created_once_in_the_data_dir(segur_runtime):
    pki = segur_runtime.test_pki()
    assert segur_runtime.test_pki() is pki
    assert pki.directory == segur_runtime.data_dir / "pki"
    assert pki.ca_bundle.is_file()


def test_contributions_are_collected(make_segur_runtime):
    from segur_core.plugin import DemoStep, Recipient

    class A:
        @hookimpl
        def segur_outbox_senders(self):
            return {"a.kind": lambda item: "ok"}

        @hookimpl
        def segur_demo_steps(self):
            return [DemoStep(order=500, title="A late", run=lambda c: None)]

        @hookimpl
        def segur_recipients(self, document, patient):
            return [Recipient(channel="dmp", address="DMP")]

    class B:
        @hookimpl
        def segur_outbox_senders(self):
            return {"b.kind": lambda item: "ok"}

        @hookimpl
        def segur_demo_steps(self):
            return [DemoStep(order=100, title="B early", run=lambda c: None)]

    runtime = make_segur_runtime(extra_plugins=[("a", A()), ("b", B())])
    assert sorted(runtime.outbox_senders()) == ["a.kind", "b.kind"]
    steps = runtime.demo_steps()
    assert [(s.title, s.plugin) for s in steps] == [("B early", "b"), ("A late", "a")]
    assert runtime.recipients(None, None) == [Recipient(channel="dmp", address="DMP")]


def test_a_delivery_kind_sent_by_two_plugins_is_an_error(make_segur_runtime):
    class A:
        @hookimpl
        def segur_outbox_senders(self):
            return {"same": lambda item: "ok"}

    runtime = make_segur_runtime(extra_plugins=[("a", A()), ("b", A())])
    with pytest.raises(PluginError, match="'same' is also sent by"):
        runtime.outbox_senders()


def test_create_runtime_accepts_a_path_and_mapping(tmp_path):
    path = tmp_path / "segur.toml"
    path.write_text('[segur]\nmode = "test"\ndata_dir = "d"\n')
    with create_runtime(str(path), autoload=False) as runtime:
        assert runtime.config.mode == "test"
        assert runtime.data_dir == tmp_path / "d"
    with create_runtime({"segur": {"mode": "production"}}, data_dir=tmp_path, autoload=False) as rt:
        assert rt.config.mode == "production"


def test_public_api_is_lazy():
    import subprocess
    import sys

    code = (
        "import sys, segur_core\n"
        "assert 'segur_core.runtime' not in sys.modules\n"
        "assert segur_core.create_runtime.__module__ == 'segur_core.runtime'\n"
        "assert segur_core.errors.ConfigError\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr
