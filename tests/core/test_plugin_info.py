"""PluginInfo: a frozen value without attrs, whose config class may be a lazy reference."""

from __future__ import annotations

import subprocess
import sys

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segur_core import hookimpl
from segur_core.errors import PluginLoadError
from segur_core.plugin import PluginInfo
from segur_core.runtime import create_runtime


@attrs.frozen
class TinyConfig:
    level: int = 1


REF = f"{__name__}:TinyConfig"


def test_is_frozen_compared_by_value_and_hashable() -> None:
    info = PluginInfo("tiny", "1.0", capabilities=["a", "b"], config_class=REF)
    same = PluginInfo(name="tiny", version="1.0", capabilities=("a", "b"), config_class=REF)
    assert info == same and hash(info) == hash(same)
    assert info != PluginInfo("tiny", "1.1", capabilities=("a", "b"), config_class=REF)
    assert info.capabilities == ("a", "b")
    with pytest.raises(AttributeError):
        info.name = "other"  # type: ignore[misc]
    assert repr(info) == (
        "PluginInfo(name='tiny', version='1.0', summary='', capabilities=('a', 'b'), "
        f"requires_core='>=0.1', config_class={REF!r})"
    )


@given(
    name=st.text(max_size=8),
    version=st.text(max_size=8),
    capabilities=st.lists(st.text(max_size=4), max_size=3),
)
def test_equality_follows_the_fields(name: str, version: str, capabilities: list[str]) -> None:
    a = PluginInfo(name, version, capabilities=capabilities)
    assert a == PluginInfo(name, version, capabilities=tuple(capabilities))
    assert a != PluginInfo(name + "x", version, capabilities=capabilities)


def test_a_class_is_kept_and_a_reference_is_imported_on_first_access() -> None:
    assert PluginInfo("tiny", "1", config_class=TinyConfig).config_class is TinyConfig
    info = PluginInfo("tiny", "1", config_class=REF)
    assert info.config_ref == REF
    assert info.config_class is TinyConfig
    assert PluginInfo("tiny", "1").config_class is None


def test_the_reference_module_is_not_imported_before_it_is_needed() -> None:
    code = (
        "import sys; from segur_core.plugin import PluginInfo; "
        "i = PluginInfo('x', '1', config_class='json.decoder:JSONDecoder'); "
        "a = 'json.decoder' in sys.modules; c = i.config_class; "
        "print(a, 'json.decoder' in sys.modules, c.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "JSONDecoder"]


@pytest.mark.parametrize("bad", ["no_colon", ":Class", "module:", ""])
def test_a_malformed_reference_is_refused_at_once(bad: str) -> None:
    with pytest.raises(ValueError, match="module:Class"):
        PluginInfo("tiny", "1", config_class=bad)


def test_config_class_must_be_a_class_or_a_reference() -> None:
    with pytest.raises(TypeError):
        PluginInfo("tiny", "1", config_class=TinyConfig())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "ref", [f"{__name__}:Missing", "segur_no_such_module:Config", f"{__name__}:REF"]
)
def test_an_unresolvable_reference_is_a_plugin_load_error(ref: str) -> None:
    with pytest.raises(PluginLoadError, match="config_class"):
        PluginInfo("tiny", "1", config_class=ref).config_class  # noqa: B018


class _Referencing:
    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.configured: list[object] = []

    @hookimpl
    def segur_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="tiny", version="1", config_class=self.ref)

    @hookimpl
    def segur_configure(self, config: object) -> None:
        self.configured.append(config)


def test_the_runtime_structures_the_config_through_the_reference(tmp_path) -> None:
    plugin = _Referencing(REF)
    with create_runtime(
        {"tiny": {"level": 3}}, data_dir=tmp_path, autoload=False, extra_plugins=[("tiny", plugin)]
    ) as runtime:
        assert runtime.plugin_config("tiny") == TinyConfig(level=3)
        assert plugin.configured == [TinyConfig(level=3)]


def test_a_broken_reference_disables_the_plugin_or_is_fatal_when_strict(tmp_path) -> None:
    bad = f"{__name__}:Missing"
    with create_runtime(
        data_dir=tmp_path, autoload=False, extra_plugins=[("tiny", _Referencing(bad))]
    ) as runtime:
        assert runtime.plugins["tiny"].status == "error"
        assert "config_class" in runtime.plugins["tiny"].error
    with pytest.raises(PluginLoadError):
        create_runtime(
            data_dir=tmp_path,
            autoload=False,
            strict=True,
            extra_plugins=[("tiny", _Referencing(bad))],
        )
