"""The [segur.serve] table: safe by default, every wrong key named."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segur_core.config import Config
from segur_core.errors import ConfigError
from segur_core.serve import ServeSettings

BASE = Path("/srv/segur")


def test_defaults_are_loopback_and_need_authentication():
    settings = ServeSettings()
    assert settings.is_loopback and settings.client_url() == "http://127.0.0.1:8765"
    with pytest.raises(ConfigError, match="bearer token or mutual TLS") as caught:
        settings.check()
    assert caught.value.key == "segur.serve.token"
    ServeSettings(socket=Path("/tmp/s.sock")).check()  # the socket's permissions authenticate


def test_the_table_is_read_with_secrets_and_relative_paths(monkeypatch):
    monkeypatch.setenv("SERVE_TOKEN", "abc")
    config = Config.from_dict(
        {"segur": {"serve": {"token": "env:SERVE_TOKEN", "socket": "run/s.sock", "port": 9000}}},
        path=BASE / "segur.toml",
    )
    settings = ServeSettings.from_config(config)
    assert settings.token.reveal() == "abc" and "abc" not in repr(settings)
    assert settings.socket == BASE / "run/s.sock" and settings.port == 9000
    assert settings.client_url() == f"unix:{BASE / 'run/s.sock'}"


def test_a_remote_address_needs_allow_remote_and_mutual_tls():
    with pytest.raises(ConfigError, match="not a loopback address"):
        ServeSettings(host="0.0.0.0", token=None).check()
    tls = {"cert": "c.pem", "key": "k.pem", "ca_bundle": "ca.pem"}
    with pytest.raises(ConfigError, match="needs mutual TLS"):
        ServeSettings.from_table({"host": "192.0.2.1", "allow_remote": True}, BASE).check()
    ServeSettings.from_table({"host": "192.0.2.1", "allow_remote": True, "tls": tls}, BASE).check()


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"prot": 1}, "segur.serve.prot"),
        ({"port": 70000}, "segur.serve.port"),
        ({"port": True}, "segur.serve.port"),
        ({"host": ""}, "segur.serve.host"),
        ({"token": "env:SEGUR_NO_SUCH_VARIABLE"}, "segur.serve.token"),
        ({"max_body_bytes": 10}, "segur.serve.max_body_bytes"),
        ({"grace_seconds": -1}, "segur.serve.grace_seconds"),
        ({"warm": "yes"}, "segur.serve.warm"),
        ({"tls": {"cert": "c"}}, "segur.serve.tls.key"),
        ({"tls": "x"}, "segur.serve.tls"),
    ],
)
def test_wrong_keys_are_named(table, key):
    with pytest.raises(ConfigError) as caught:
        ServeSettings.from_table(table, BASE)
    assert caught.value.key == key


_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))


_keys = st.sampled_from(
    ["host", "port", "socket", "tls", "max_body_bytes", "grace_seconds", "warm", "url", "x"]
)


@given(st.dictionaries(_keys, _values))
def test_any_table_is_read_or_refused_with_a_config_error(table):
    try:
        ServeSettings.from_table(table, BASE)
    except ConfigError as exc:
        assert exc.key and exc.key.startswith("segur.serve")
