"""The guarded entry-point loader: bad plugins are reported and skipped, not fatal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segur_core.errors import PluginLoadError
from segur_core.runtime import create_runtime

GOOD = """
from segur_core import hookimpl
from segur_core.plugin import PluginInfo

seen = []

@hookimpl
def segur_plugin_info():
    return PluginInfo(name="good", version="2.0", capabilities=("testing",))

@hookimpl
def on_card_read(reading):
    seen.append(reading)
"""

BROKEN_IMPORT = """
import segur_core
import this_module_does_not_exist_anywhere
"""

INCOMPATIBLE = """
from segur_core import hookimpl
from segur_core.plugin import PluginInfo

@hookimpl
def segur_plugin_info():
    return PluginInfo(name="future", version="9.0", requires_core=">=99")
"""

UNKNOWN_HOOK = """
from segur_core import hookimpl

@hookimpl
def on_card_swallowed(reading):
    pass
"""

BAD_ARGS = """
from segur_core import hookimpl

@hookimpl
def on_card_read(reading, not_an_argument):
    pass
"""


def by_name(runtime):
    return {name: record for name, record in runtime.plugins.items()}


def test_import_failure_is_listed_and_others_load(fake_dist, tmp_path):
    good = fake_dist("good", GOOD)
    fake_dist("broken", BROKEN_IMPORT)
    with create_runtime(data_dir=tmp_path / "d") as runtime:
        records = by_name(runtime)
        assert records["good"].status == "loaded"
        assert records["good"].distribution == "fake-good"
        assert records["good"].info.version == "2.0"
        assert "on_card_read" in records["good"].hooks
        assert records["broken"].status == "error"
        assert "import failed" in records["broken"].error
        assert "this_module_does_not_exist_anywhere" in records["broken"].error
        assert not runtime.pm.has_plugin("broken")
        # workspace plugins are discovered but narrowed out by SEGUR_PLUGINS
        assert records["example"].status == "disabled"
        assert runtime.plugin_config("good") is None
    import sys

    assert sys.modules[good].seen == []


def test_strict_makes_an_import_failure_fatal(fake_dist, tmp_path):
    fake_dist("good", GOOD)
    fake_dist("broken", BROKEN_IMPORT)
    with pytest.raises(PluginLoadError) as caught:
        create_runtime(data_dir=tmp_path, strict=True)
    assert caught.value.plugin == "broken"


def test_strict_from_config(fake_dist, tmp_path):
    fake_dist("broken", BROKEN_IMPORT)
    with pytest.raises(PluginLoadError):
        create_runtime({"segur": {"strict": True}}, data_dir=tmp_path)


def test_incompatible_core_is_skipped(fake_dist, tmp_path):
    fake_dist("future", INCOMPATIBLE)
    with create_runtime(data_dir=tmp_path) as runtime:
        record = runtime.plugins["future"]
        assert record.status == "incompatible"
        assert ">=99" in record.error
    with pytest.raises(PluginLoadError, match="requires segur-core >=99"):
        create_runtime(data_dir=tmp_path, strict=True)


def test_unknown_hook_and_bad_arguments_are_load_errors(fake_dist, tmp_path):
    fake_dist("unknown", UNKNOWN_HOOK)
    fake_dist("badargs", BAD_ARGS)
    fake_dist("good", GOOD)
    with create_runtime(data_dir=tmp_path) as runtime:
        assert "on_card_swallowed" in runtime.plugins["unknown"].error
        assert "not_an_argument" in runtime.plugins["badargs"].error
        assert runtime.plugins["good"].loaded
        assert not runtime.pm.has_plugin("unknown")


def test_config_enables_a_subset(fake_dist, tmp_path, monkeypatch):
    fake_dist("good", GOOD)
    fake_dist("broken", BROKEN_IMPORT)
    monkeypatch.delenv("SEGUR_PLUGINS")
    with create_runtime({"segur": {"plugins": ["good"]}}, data_dir=tmp_path) as runtime:
        assert runtime.plugins["good"].loaded
        assert runtime.plugins["broken"].status == "disabled"
        assert runtime.plugins["broken"].enabled is False
        assert runtime.plugins["example"].status == "disabled"


def test_environment_narrows_the_config(fake_dist, tmp_path, monkeypatch):
    fake_dist("good", GOOD)
    fake_dist("broken", BROKEN_IMPORT)
    monkeypatch.setenv("SEGUR_PLUGINS", "good")
    config = {"segur": {"plugins": ["good", "broken"]}}
    with create_runtime(config, data_dir=tmp_path) as runtime:
        assert runtime.plugins["good"].loaded
        assert runtime.plugins["broken"].status == "disabled"


def test_enabled_but_not_installed(fake_dist, tmp_path, monkeypatch):
    fake_dist("good", GOOD)
    monkeypatch.delenv("SEGUR_PLUGINS")
    with create_runtime({"segur": {"plugins": ["good", "ghost"]}}, data_dir=tmp_path) as rt:
        assert rt.plugins["ghost"].status == "missing"
    with pytest.raises(PluginLoadError, match="not installed"):
        create_runtime({"segur": {"plugins": ["ghost"]}}, data_dir=tmp_path, strict=True)


def test_autoload_disabled_keeps_extra_plugins(fake_dist, tmp_path, monkeypatch):
    fake_dist("good", GOOD)
    monkeypatch.setenv("SEGUR_DISABLE_PLUGIN_AUTOLOAD", "1")

    class Extra:
        pass

    with create_runtime(data_dir=tmp_path, extra_plugins=[("extra", Extra())]) as runtime:
        assert list(runtime.plugins) == ["extra"]


def test_plugin_failing_in_configure_is_disabled(tmp_path):
    from segur_core import hookimpl

    class Failing:
        @hookimpl
        def segur_configure(self, config):
            raise RuntimeError("boom")

    with create_runtime(
        data_dir=tmp_path, autoload=False, extra_plugins=[("failing", Failing())]
    ) as runtime:
        assert runtime.plugins["failing"].status == "error"
        assert "segur_configure failed" in runtime.plugins["failing"].error
    with pytest.raises(PluginLoadError):
        create_runtime(
            data_dir=tmp_path, autoload=False, strict=True, extra_plugins=[("f", Failing())]
        )


_versions = st.lists(st.integers(0, 12), min_size=1, max_size=4).map(
    lambda parts: ".".join(map(str, parts))
)
_clauses = st.tuples(st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~="]), _versions).map(
    lambda c: f"{c[0]}{c[1]}"
)


@given(st.lists(_clauses, min_size=1, max_size=3).map(",".join), _versions)
def test_fast_specifier_check_agrees_with_packaging(spec, version):
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from segur_core._loader import compatible, simple_contains

    fast = simple_contains(spec, version)
    try:
        expected = SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidSpecifier:
        assert fast is None
        return
    if fast is not None:
        assert fast == expected, (spec, version)
    assert compatible(spec, version) == expected


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        (">=0.1", "0.1.0", True),
        (">=0.1,<1", "0.1.0", True),
        (">=0.2", "0.1.0", False),
        ("~=0.1", "0.9.3", True),
        ("~=0.1.2", "0.2.0", False),
        ("==0.1.*", "0.1.5", True),  # wildcard: packaging decides
        (">=0.1", "0.2.0rc1", True),  # pre-release core: packaging decides
    ],
)
def test_compatible_examples(spec, version, expected):
    from segur_core._loader import compatible

    assert compatible(spec, version) is expected


def test_runtime_commands_and_testing_kit_share_one_plugin_manager_recipe(
    segur_runtime, tmp_path, monkeypatch
):
    from segur_core._loader import new_plugin_manager
    from segur_core.cli._state import CliState

    def specs(pm) -> set[str]:
        return {name for name, caller in vars(pm.hook).items() if caller.has_spec()}

    expected = specs(new_plugin_manager())
    assert {"on_card_read", "segur_configure", "host_structure", "host_decide"} <= expected
    assert specs(segur_runtime.pm) == expected
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEGUR_CONFIG", raising=False)
    assert specs(CliState().plugin_manager()[0]) == expected
