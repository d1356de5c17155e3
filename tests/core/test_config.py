"""segur.toml: lookup, the [segur] table, plugin tables structured with exact key errors,
secrets resolved and redacted."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segur_core.config import Config, find_config_file, load_config, redacted, structure_table
from segur_core.errors import ConfigError
from segur_core.secrets import REDACTED, Secret, resolve


@attrs.frozen
class TLS:
    ca_bundle: Path | None = None
    timeout: float = 10.0


@attrs.frozen
class InsConfig:
    endpoint: str = "https://localhost"
    retries: int = 3
    password: Secret | None = None
    tls: TLS = attrs.Factory(TLS)
    tags: tuple[str, ...] = ()


def config(data, tmp_path=None):
    return Config.from_dict(data, path=(tmp_path / "segur.toml") if tmp_path else None)


# -- lookup --------------------------------------------------------------------------------


def test_no_file_gives_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEGUR_CONFIG", raising=False)
    assert find_config_file() is None
    cfg = load_config()
    assert cfg.mode == "demo"
    assert cfg.plugins is None
    assert cfg.path is None


def test_lookup_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "segur.toml").write_text('[segur]\nmode = "test"\n')
    env_file = tmp_path / "env.toml"
    env_file.write_text('[segur]\nmode = "production"\n')
    explicit = tmp_path / "explicit.toml"
    explicit.write_text('[segur]\nmode = "demo"\nstrict = true\n')
    monkeypatch.delenv("SEGUR_CONFIG", raising=False)
    assert load_config().mode == "test"
    monkeypatch.setenv("SEGUR_CONFIG", str(env_file))
    assert load_config().mode == "production"
    cfg = load_config(explicit)
    assert (cfg.mode, cfg.strict, cfg.path) == ("demo", True, explicit.resolve())


def test_missing_explicit_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml(tmp_path):
    path = tmp_path / "segur.toml"
    path.write_text("[segur\nmode=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_data_dir_is_relative_to_the_file(tmp_path):
    cfg = config({"segur": {"data_dir": "var/segur"}}, tmp_path)
    assert cfg.data_dir == tmp_path / "var" / "segur"


@pytest.mark.parametrize(
    ("segur", "key", "words"),
    [
        ({"mode": "prod"}, "segur.mode", "demo, test, production"),
        ({"plugins": "ins"}, "segur.plugins", "list[str]"),
        ({"plugins": ["ins", 3]}, "segur.plugins", "list[str]"),
        ({"strict": "yes"}, "segur.strict", "bool"),
        ({"data_dir": 4}, "segur.data_dir", "str"),
        ({"plugin": ["ins"]}, "segur.plugin", "unknown key"),
    ],
)
def test_segur_table_errors_name_the_key(segur, key, words):
    with pytest.raises(ConfigError) as caught:
        config({"segur": segur})
    assert caught.value.key == key
    assert words in str(caught.value)


def test_plugin_table_must_be_a_table():
    with pytest.raises(ConfigError) as caught:
        config({"ins": 3})
    assert caught.value.key == "ins"


# -- plugin tables -------------------------------------------------------------------------


def test_defaults_when_table_absent():
    assert structure_table(config({}), "ins", InsConfig) == InsConfig()


def test_structured_values(tmp_path):
    cfg = config(
        {"ins": {"endpoint": "https://insi", "retries": 5, "tls": {"ca_bundle": "ca.pem"}}},
        tmp_path,
    )
    ins = structure_table(cfg, "ins", InsConfig)
    assert ins.endpoint == "https://insi"
    assert ins.retries == 5
    assert ins.tls.ca_bundle == tmp_path / "ca.pem"


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ({"retries": "three"}, "ins.retries", "int"),
        ({"retries": True}, "ins.retries", "int"),
        ({"endpoint": 4}, "ins.endpoint", "str"),
        ({"tls": {"timeout": "slow"}}, "ins.tls.timeout", "float"),
        ({"tls": {"timout": 3}}, "ins.tls.timout", "unknown key"),
        ({"endpiont": "x"}, "ins.endpiont", "unknown key"),
        ({"tags": ["a", 2]}, "ins.tags[1]", "str"),
        ({"tls": 5}, "ins.tls", "TLS"),
    ],
)
def test_plugin_table_errors_name_the_key(table, key, words):
    with pytest.raises(ConfigError) as caught:
        structure_table(config({"ins": table}), "ins", InsConfig)
    assert caught.value.key == key
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"{key}: ")


# -- secrets -------------------------------------------------------------------------------


def test_env_secret_resolved_and_redacted(monkeypatch):
    monkeypatch.setenv("INS_PASSWORD", "hunter2")
    ins = structure_table(config({"ins": {"password": "env:INS_PASSWORD"}}), "ins", InsConfig)
    assert ins.password.reveal() == "hunter2"
    assert "hunter2" not in repr(ins)
    assert "hunter2" not in str(ins.password)
    assert ins.password.source == "env:INS_PASSWORD"
    assert redacted(ins)["password"] == REDACTED


def test_missing_env_secret_names_the_key(monkeypatch):
    monkeypatch.delenv("NOPE_SECRET", raising=False)
    with pytest.raises(ConfigError) as caught:
        structure_table(config({"ins": {"password": "env:NOPE_SECRET"}}), "ins", InsConfig)
    assert caught.value.key == "ins.password"
    assert "NOPE_SECRET" in str(caught.value)


def test_file_secret_relative_to_config(tmp_path):
    (tmp_path / "pw.txt").write_text("s3cret\n")
    cfg = config({"ins": {"password": "file:pw.txt"}}, tmp_path)
    assert structure_table(cfg, "ins", InsConfig).password.reveal() == "s3cret"
    with pytest.raises(ConfigError, match="cannot read secret file"):
        structure_table(config({"ins": {"password": "file:absent"}}, tmp_path), "ins", InsConfig)


def test_secret_reference_in_a_plain_string_field_is_refused(monkeypatch):
    monkeypatch.setenv("SOME_URL", "https://secret")
    with pytest.raises(ConfigError) as caught:
        structure_table(config({"ins": {"endpoint": "env:SOME_URL"}}), "ins", InsConfig)
    assert caught.value.key == "ins.endpoint"
    assert "Secret" in str(caught.value)


def test_redacted_hides_references_and_secret_looking_keys():
    data = {"a": {"password": "inline", "token": "env:X", "url": "https://x", "n": 3}}
    shown = redacted(data)
    assert shown == {"a": {"password": REDACTED, "token": REDACTED, "url": "https://x", "n": 3}}
    assert json.dumps(shown)


@given(st.text(min_size=1))
def test_secret_never_prints_its_value(value):
    secret = resolve(value) if not value.startswith(("env:", "file:")) else Secret(value)
    assert str(secret) == REDACTED
    assert repr(secret) == "Secret(***, source='inline')"
    assert f"{secret}" == REDACTED
    assert secret.reveal() == value


_toml_scalars = st.one_of(
    st.booleans(), st.integers(), st.text(max_size=10), st.lists(st.text(max_size=5), max_size=3)
)


@given(
    st.dictionaries(st.sampled_from(["plugins", "data_dir", "mode", "strict", "x"]), _toml_scalars)
)
def test_segur_table_parses_or_raises_config_error(segur):
    try:
        cfg = config({"segur": segur})
    except ConfigError as exc:
        assert exc.key is not None and exc.key.startswith("segur.")
    else:
        assert cfg.mode in {"demo", "test", "production"}


@given(
    st.dictionaries(
        st.sampled_from(["endpoint", "retries", "password", "tls", "tags", "zz"]), _toml_scalars
    )
)
def test_plugin_table_structures_or_raises_config_error(table):
    try:
        structure_table(config({"ins": table}), "ins", InsConfig)
    except ConfigError as exc:
        assert exc.key is not None and exc.key.startswith("ins")
