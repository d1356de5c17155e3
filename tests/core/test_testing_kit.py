"""The pytest fixtures and helpers of segur_core.testing."""

from __future__ import annotations

import pytest

from segur_core import hookimpl
from segur_core.testing.recorder import HookRecorder


class Oid:
    @hookimpl
    def segur_ins_oid(self):
        return "1.2.250.1.213.1.4.10"


class Broken:
    @hookimpl
    def segur_shareable_ins(self, patient):
        raise ValueError("no")


@pytest.fixture
def segur_plugins():
    return [("oid", Oid()), ("broken", Broken())]


def test_segur_runtime_registers_the_overridden_plugins(segur_runtime):
    assert sorted(r.name for r in segur_runtime.loaded_plugins()) == ["broken", "oid"]
    assert segur_runtime.config.mode == "test"
    assert segur_runtime.host.structure().finess  # the temporary reference host


def test_hook_recorder_keeps_results_and_exceptions(segur_runtime, hook_recorder):
    assert segur_runtime.ins_oid() == "1.2.250.1.213.1.4.10"
    with pytest.raises(ValueError):
        segur_runtime.shareable_ins(None)
    oid = hook_recorder.one("segur_ins_oid")
    assert oid.result == "1.2.250.1.213.1.4.10"
    assert oid.plugins == ("oid",)
    failed = hook_recorder.one("segur_shareable_ins")
    assert isinstance(failed.exception, ValueError)
    assert hook_recorder.names() == ["segur_ins_oid", "segur_shareable_ins"]
    hook_recorder.clear()
    assert len(hook_recorder) == 0


def test_recorder_detaches(segur_runtime):
    recorder = HookRecorder.attach(segur_runtime)
    segur_runtime.ins_oid()
    recorder.detach()
    segur_runtime.ins_oid()
    assert recorder.names() == ["segur_ins_oid"]
    with pytest.raises(AssertionError, match="expected one call of on_card_read, got 0"):
        recorder.one("on_card_read")


@pytest.mark.segur(autoload=True, plugins=["example"], config={"example": {"journal": False}})
def test_marker_enables_installed_plugins(segur_runtime):
    assert segur_runtime.plugins["example"].loaded
    assert segur_runtime.plugin_config("example").journal is False
    disabled = [r.name for r in segur_runtime.plugins.values() if r.status == "disabled"]
    assert "example" not in disabled


def test_make_segur_runtime_gives_separate_runtimes(make_segur_runtime):
    first, second = make_segur_runtime(), make_segur_runtime(mode="demo")
    assert first.data_dir != second.data_dir
    assert (first.config.mode, second.config.mode) == ("test", "demo")
