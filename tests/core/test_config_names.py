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


# --- keys of a plugin's table, even while the plugin is disabled -------------------------


def _disabled_dmp(tmp_path, table: str) -> object:
    path = tmp_path / "segur.toml"
    path.write_text(f'[segur]\nmode = "test"\nplugins = ["ins"]\n\n{table}\n')
    return path


@pytest.mark.parametrize(
    ("table", "key", "match"),
    [
        ('[dmp]\nendpont = "https://dmp.example"', "dmp.endpont", "'endpoint'"),
        ('[dmp.tls]\nclient_pkcs = "x.p12"', "dmp.tls.client_pkcs", "'client_pkcs12'"),
        ("[vitale]\ncard_reader_nam = 'x'", "vitale.card_reader_nam", None),
    ],
)
def test_an_unknown_key_of_a_disabled_plugin_is_an_error_at_start(tmp_path, table, key, match):
    """Before, a disabled plugin's table was never read: the typo surfaced (or not) the
    day the plugin was enabled."""
    path = _disabled_dmp(tmp_path, table)
    with pytest.raises(ConfigError) as caught:
        create_runtime(path, data_dir=tmp_path / "data")
    assert caught.value.key == key
    assert "unknown key" in str(caught.value)
    if match:
        assert f"did you mean {match}?" in str(caught.value)


def test_a_disabled_plugins_known_keys_and_secret_references_are_accepted(tmp_path, monkeypatch):
    monkeypatch.delenv("DMP_UNSET_PASSWORD", raising=False)  # never resolved while disabled
    path = _disabled_dmp(
        tmp_path,
        '[dmp]\nendpoint = "https://dmp.example"\n\n'
        '[dmp.tls]\nclient_pkcs12 = "x.p12"\nclient_password = "env:DMP_UNSET_PASSWORD"',
    )
    create_runtime(path, data_dir=tmp_path / "data").close()


def test_an_enabled_plugins_unknown_key_says_what_was_meant(tmp_path):
    path = tmp_path / "segur.toml"
    path.write_text('[segur]\nmode = "test"\nplugins = ["ins"]\n\n[ins]\nendpont = "sandbox"\n')
    with pytest.raises(ConfigError, match=r"unknown key, did you mean 'endpoint'\?"):
        create_runtime(path, data_dir=tmp_path / "data")


def test_config_show_exits_non_zero_on_a_disabled_plugins_unknown_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SEGUR_PLUGINS", raising=False)
    monkeypatch.delenv("SEGUR_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    path = _disabled_dmp(tmp_path, '[dmp]\nendpont = "https://dmp.example"')
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "show"])
    assert result.exit_code != 0
    assert "dmp.endpont: unknown key, did you mean 'endpoint'?" in result.output


def test_every_plugin_declares_its_config_class_for_the_key_check():
    """The ``segur.config`` entry point names the class ``segur_plugin_info`` gives."""
    from importlib.metadata import entry_points

    from segur_core._loader import load_plugins, new_plugin_manager
    from segur_core.config_names import CONFIG_GROUP

    declared = {ep.name: ep.value for ep in entry_points(group=CONFIG_GROUP)}
    records = load_plugins(new_plugin_manager(), enabled=None)
    for name, record in records.items():
        if record.info is None or record.info.config_ref is None:
            continue
        reference = record.info.config_ref
        if not isinstance(reference, str):
            reference = f"{reference.__module__}:{reference.__qualname__}"
        assert declared.get(name) == reference, name
