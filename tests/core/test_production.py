"""Production mode refuses at start every sandbox or loopback endpoint of every plugin
and every inline secret, and ``segur doctor`` says why, one line per problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from segur_core.cli import cli
from segur_core.errors import ConfigError
from segur_core.production import ProductionError, is_local_endpoint
from segur_core.runtime import create_runtime

#: (plugin, endpoint setting): every plugin that calls a service, by its setting.
ENDPOINTS = [
    ("ins", "endpoint"),
    ("dmp", "endpoint"),
    ("vitale", "apcv_endpoint"),
    ("mss", "server"),
    ("eprescription", "endpoint"),
    ("dp", "endpoint"),
]
LOCAL = [
    "sandbox",
    "https://127.0.0.1:8443/lps",
    "https://localhost/services",
    "https://[::1]:9000/",
    "https://0.0.0.0/",
    "https://LOCALHOST./x",
    "https://dmp.localhost/",
    "127.0.0.2",
]
REMOTE = "https://service.example.org/api"


def _production(tmp_path: Path, plugin: str, table: dict) -> object:
    return create_runtime(
        {"segur": {"mode": "production", "plugins": [plugin]}, plugin: table},
        data_dir=tmp_path,
        autoload=True,
    )


@pytest.mark.parametrize(("plugin", "setting"), ENDPOINTS)
@pytest.mark.parametrize("value", [None, *LOCAL[1:3]])
def test_every_plugin_s_local_endpoint_is_refused_at_start(tmp_path, plugin, setting, value):
    table = {} if value is None else {setting: value}  # None: the default, "sandbox"
    with pytest.raises(ProductionError) as caught:
        _production(tmp_path, plugin, table)
    assert caught.value.key == f"{plugin}.{setting}"
    assert "cannot be used in production mode" in str(caught.value)


@pytest.mark.parametrize(("plugin", "setting"), ENDPOINTS)
def test_a_remote_endpoint_is_no_production_problem(tmp_path, plugin, setting):
    try:
        runtime = _production(tmp_path, plugin, {setting: REMOTE.replace("https://", "") if
                                                 setting == "server" else REMOTE})  # fmt: skip
    except ProductionError as exc:
        pytest.fail(f"refused: {exc}")
    except ConfigError:
        return  # what else production requires (certificates) is the plugin's own check
    runtime.close()


def test_inline_secrets_are_refused_and_references_accepted(tmp_path, monkeypatch):
    table = {"endpoint": REMOTE, "tls": {"client_password": "hunter2"}}
    with pytest.raises(ProductionError) as caught:
        _production(tmp_path, "ins", table)
    assert caught.value.key == "ins.tls.client_password"
    assert "env:NAME or file:PATH" in str(caught.value) and "hunter2" not in str(caught.value)
    monkeypatch.setenv("SEGUR_TEST_PASSWORD", "hunter2")
    table["tls"]["client_password"] = "env:SEGUR_TEST_PASSWORD"
    (tmp_path / "pw").write_text("hunter2")
    table["cps_password"] = f"file:{tmp_path / 'pw'}"
    try:
        _production(tmp_path, "ins", table).close()
    except ProductionError as exc:
        pytest.fail(f"refused: {exc}")
    except ConfigError:
        pass


def test_outside_production_the_sandbox_is_fine(tmp_path):
    create_runtime(
        {"segur": {"mode": "test", "plugins": ["dmp"]}}, data_dir=tmp_path, autoload=True
    ).close()


def test_doctor_says_why_one_line_per_problem(tmp_path):
    config = tmp_path / "segur.toml"
    config.write_text(
        f'[segur]\nmode = "production"\nplugins = ["ins", "dmp"]\ndata_dir = "{tmp_path}"\n\n'
        '[ins]\nendpoint = "https://127.0.0.1:8443/lps"\n\n[ins.tls]\nclient_password = "x"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "doctor", "--json"])
    assert result.exit_code == 1, result.output
    problems = [c for c in json.loads(result.output)["checks"] if c["check"] == "production"]
    found = {c["message"].split(":")[0]: c for c in problems}
    assert len(problems) == 3 and set(found) == {
        "ins.endpoint", "ins.tls.client_password", "dmp.endpoint",
    }  # fmt: skip
    assert all(c["result"] == "error" and c["plugin"] == k[:3] for k, c in found.items())
    assert "loopback" in found["ins.endpoint"]["message"]
    assert "sandbox" in found["dmp.endpoint"]["message"]
    text = CliRunner().invoke(cli, ["--config", str(config), "doctor"]).output
    assert "dmp.endpoint" in text and "Traceback" not in text


@pytest.mark.parametrize("value", LOCAL)
def test_local_endpoints(value):
    assert is_local_endpoint(value)


@pytest.mark.parametrize(
    "value", [REMOTE, "mail.mssante.fr", "https://10.0.0.1/", "https://localhost.example.org/"]
)
def test_remote_endpoints(value):
    assert not is_local_endpoint(value)


@given(st.text(max_size=200))
def test_any_endpoint_text_is_judged_without_error(value):
    assert isinstance(is_local_endpoint(value), bool)
