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

    with create_runtime(data_dir=tmp_path, host=LazyHost(), autoload=False) as runtime:
        with pytest.raises(ConformanceError, match="mandatory"):
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
    with create_runtime(data_dir=tmp_path, autoload=False, extra_plugins=[Counting()]) as rt:
        with caplog.at_level(logging.INFO, logger="segur.trace"):
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
