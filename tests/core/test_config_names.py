"""Plugin names in segur.toml: a typo of an installed plugin is refused at start with
"did you mean"; a table of a plugin that is not installed is only reported."""

from __future__ import annotations

import json
import string

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from segur_core.cli import cli
from segur_core.config import Config
from segur_core.config_names import check_plugin_names
from segur_core.errors import ConfigError
from segur_core.runtime import create_runtime

INSTALLED = ["dmp", "documents", "ins", "vitale"]


def test_a_table_close_to_an_installed_plugin_is_an_error():
    with pytest.raises(ConfigError) as caught:
        check_plugin_names(Config.from_dict({"insi": {"endpoint": "x"}}), INSTALLED)
    assert caught.value.key == "insi"
    assert "did you mean [ins]" in str(caught.value)


def test_a_plugins_entry_close_to_an_installed_plugin_is_an_error():
    config = Config.from_dict({"segur": {"plugins": ["ins", "vitalle"]}})
    with pytest.raises(ConfigError) as caught:
        check_plugin_names(config, INSTALLED)
    assert caught.value.key == "segur.plugins"
    assert "'vitalle', did you mean 'vitale'" in str(caught.value)


def test_a_disabled_plugins_table_is_accepted_and_an_uninstalled_one_reported():
    config = Config.from_dict(
        {"segur": {"plugins": ["ins"]}, "dmp": {"endpoint": "x"}, "pharmacie-x": {"a": 1}}
    )
    assert check_plugin_names(config, INSTALLED) == ["pharmacie-x"]


@given(
    st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=12).filter(
        lambda n: n != "segur"
    )
)
def test_any_table_name_is_accepted_reported_or_refused_by_name(name):
    config = Config.from_dict({name: {}})
    try:
        orphans = check_plugin_names(config, INSTALLED)
    except ConfigError as exc:
        assert exc.key == name and name not in INSTALLED and "did you mean" in str(exc)
    else:
        assert orphans == ([] if name in INSTALLED else [name])


def test_the_runtime_refuses_a_typo_at_start(tmp_path):
    path = tmp_path / "segur.toml"
    path.write_text('[segur]\nmode = "test"\n\n[insi]\nendpoint = "x"\n')
    with pytest.raises(ConfigError, match=r"did you mean \[ins\]"):
        create_runtime(path, data_dir=tmp_path / "data")


def test_config_show_exits_non_zero_on_a_typo(tmp_path, monkeypatch):
    monkeypatch.delenv("SEGUR_PLUGINS", raising=False)
    monkeypatch.delenv("SEGUR_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    path = tmp_path / "segur.toml"
    path.write_text('[segur]\nplugins = ["ins"]\n\n[vitael]\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "show"])
    assert result.exit_code != 0
    assert "vitael: unknown table [vitael], did you mean [vitale]?" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    ok = tmp_path / "ok.toml"
    ok.write_text('[segur]\nplugins = ["ins"]\n\n[vitale]\n\n[uninstalled-thing]\n')
    result = CliRunner().invoke(cli, ["--config", str(ok), "config", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert "uninstalled-thing" in json.loads(result.output)
