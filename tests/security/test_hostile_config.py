"""Hostile or careless ``segur.toml``: numbers that break every call later, secrets
written inline under names no plugin declares."""

from __future__ import annotations

import json
import math
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from segur_core.cli import cli
from segur_core.config import Config, load_config, redacted, structure_table
from segur_core.errors import ConfigError
from segur_core.limits import FLOAT_LIMIT, INT_RANGE
from segur_core.secrets import REDACTED, looks_secret, redact_text

# -- numbers (non-finite, out of range) ----------------------------------------------------


@attrs.frozen
class Numbers:
    timeout: float = 1.0
    retries: int = 1
    limit: int | None = None


@pytest.mark.parametrize(
    "literal",
    ["nan", "+nan", "-nan", "inf", "+inf", "-inf", "1e300", "-1e10", "99999999999999999999999"],
)
def test_non_finite_or_huge_timeout_is_refused_at_load_naming_the_key(
    tmp_path: Path, literal: str
) -> None:
    from segur_ins.config import InsConfig

    path = tmp_path / "segur.toml"
    path.write_text(f"[ins]\ntimeout = {literal}\n")
    with pytest.raises(ConfigError, match=r"^ins\.timeout: expected a finite number"):
        structure_table(load_config(path), "ins", InsConfig)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_integers_beyond_64_bits_are_refused_naming_the_key(value: int) -> None:
    config = Config.from_dict({"t": {"limit": value}})
    with pytest.raises(ConfigError, match=r"^t\.limit: expected an int between"):
        structure_table(config, "t", Numbers)


@pytest.mark.parametrize(
    "name", ["horizon_hours", "base_delay", "max_delay", "lease", "payload_retention_days"]
)
@pytest.mark.parametrize(
    "value", [10**400, 2**70, 1e300, math.inf], ids=["10^400", "2^70", "1e300", "inf"]
)
def test_outbox_numbers_read_by_hand_are_bounded_too(name: str, value) -> None:
    with pytest.raises(ConfigError, match=rf"^segur\.outbox\.{name}: expected a finite number"):
        Config.from_dict({"segur": {"outbox": {name: value}}})


def test_outbox_max_attempts_fits_64_bits() -> None:
    with pytest.raises(ConfigError, match=r"^segur\.outbox\.max_attempts: expected an int"):
        Config.from_dict({"segur": {"outbox": {"max_attempts": 2**70}}})


def test_cli_reports_a_nan_timeout_in_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SEGUR_PLUGINS", "ins")
    path = tmp_path / "segur.toml"
    path.write_text(f'[segur]\ndata_dir = "{tmp_path / "data"}"\n\n[ins]\ntimeout = nan\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "show"])
    assert result.exit_code == 1
    assert "ins.timeout" in result.output and "finite" in result.output
    assert "Traceback" not in result.output


_NUMBERS = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.sampled_from([math.nan, math.inf, -math.inf, 1e9, -1e9, 2**63 - 1, -(2**63)])
)


@given(timeout=_NUMBERS, retries=_NUMBERS, limit=_NUMBERS)
def test_numbers_are_finite_and_in_range_or_refused_with_the_key(timeout, retries, limit) -> None:
    config = Config.from_dict({"t": {"timeout": timeout, "retries": retries, "limit": limit}})
    try:
        numbers = structure_table(config, "t", Numbers)
    except ConfigError as error:
        assert error.key in {"t.timeout", "t.retries", "t.limit"}
        return
    assert math.isfinite(numbers.timeout) and abs(numbers.timeout) <= FLOAT_LIMIT
    for value in (numbers.retries, numbers.limit):
        assert isinstance(value, int) and INT_RANGE[0] <= value <= INT_RANGE[1]


# -- secrets shown -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["pin", "client_pwd", "cps_pin", "api_key", "apiKey", "key", "pass", "auth_token"]
)
def test_secret_looking_keys(key: str) -> None:
    assert looks_secret(key)


@pytest.mark.parametrize("key", ["timeout", "endpoint", "pinned", "keystore_dir", "mode", "bypass"])
def test_ordinary_keys_are_shown(key: str) -> None:
    assert not looks_secret(key)


def test_redacted_hides_values_under_secret_names_of_any_type() -> None:
    data = {
        "card": {"pin": 4321, "pin_text": "4321", "reader": "ACS"},
        "lab": {"client_pwd": "hunter2", "credentials": {"user": "u", "code": "c"}},
        "dmp": {"endpoint": "https://bob:s3cr3t@dmp.example/x?token=abc&page=2"},
    }
    shown = redacted(data)
    assert shown["card"] == {"pin": REDACTED, "pin_text": REDACTED, "reader": "ACS"}
    assert shown["lab"] == {
        "client_pwd": REDACTED,
        "credentials": {"user": REDACTED, "code": REDACTED},
    }
    assert shown["dmp"]["endpoint"] == f"https://{REDACTED}@dmp.example/x?token={REDACTED}&page=2"


def test_redact_text_leaves_plain_urls_alone() -> None:
    assert redact_text("https://insi.example:8443/path?page=2") == (
        "https://insi.example:8443/path?page=2"
    )


CLEAR = ("4321", "hunter2", "s3cr3t", "abc-token-value")


def _hostile_toml(tmp_path: Path) -> Path:
    path = tmp_path / "segur.toml"
    path.write_text(
        f'[segur]\ndata_dir = "{tmp_path / "data"}"\n\n'
        '[card]\npin = 4321\nreader = "ACS"\n\n'
        '[lab]\nclient_pwd = "hunter2"\nurl = "https://bob:s3cr3t@lab.example/?token=abc-token-value"\n'
    )
    return path


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["toml", "json"])
def test_config_show_never_prints_inline_secrets(tmp_path: Path, monkeypatch, json_flag) -> None:
    monkeypatch.setenv("SEGUR_PLUGINS", "example")
    path = _hostile_toml(tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "show", *json_flag])
    assert result.exit_code == 0, result.output
    for value in CLEAR:
        assert value not in result.output
    assert "ACS" in result.output  # ordinary values stay visible
    if json_flag:
        assert json.loads(result.output)["card"]["pin"] == REDACTED


def test_doctor_never_prints_url_credentials(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SEGUR_PLUGINS", "ins")
    path = tmp_path / "segur.toml"
    path.write_text(
        f'[segur]\ndata_dir = "{tmp_path / "data"}"\nmode = "test"\n\n'
        '[ins]\nendpoint = "https://bob:s3cr3t@127.0.0.1:9/insi?token=abc-token-value"\n'
    )
    for flags in ([], ["--json"]):
        result = CliRunner().invoke(cli, ["--config", str(path), "doctor", *flags])
        assert "Traceback" not in result.output
        for value in CLEAR:
            assert value not in result.output, result.output


@given(
    word=st.sampled_from(["pin", "pwd", "password", "token", "secret", "key", "passphrase"]),
    prefix=st.sampled_from(["", "client_", "cps.", "api", "x-"]),
    value=st.integers() | st.floats(allow_nan=False) | st.text(min_size=1),
)
def test_any_value_under_a_secret_name_is_redacted(word: str, prefix: str, value) -> None:
    key = prefix + (word.capitalize() if prefix == "api" else word)
    shown = redacted({"table": {key: value, "nested": {key: [value]}}})
    assert shown["table"][key] == REDACTED
    assert shown["table"]["nested"][key] == [REDACTED]


@given(st.one_of(st.integers(max_value=0), st.floats(max_value=0.0, allow_nan=False)))
def test_a_plugin_setting_that_must_be_positive_names_its_key(value):
    from segur_core.limits import positive

    class Field:
        name = "timeout"

    with pytest.raises(ConfigError) as caught:
        positive("dmp")(None, Field, value)
    assert caught.value.key == "dmp.timeout"
    positive("dmp")(None, Field, 0.001)  # a positive number passes
