"""The plugin's contributions: info and config, CLI commands, sandbox, doctor, demo step."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from segur_vitale import plugin
from segur_vitale.config import VitaleConfig
from segur_vitale.demo import ORDER, run_demo_step
from segur_vitale.virtual import DEMO_CARDHOLDER

from segur_core.errors import ConfigError
from segur_core.plugin import DemoContext, DoctorResult
from segur_core.testing.plugin import assert_hookimpls_match_specs
from segur_core.testing.recorder import HookRecorder


def test_hookimpls_match_specs():
    assert_hookimpls_match_specs(plugin)


def test_plugin_info_and_config():
    info = plugin.segur_plugin_info()
    assert info.name == "vitale" and info.config_class is VitaleConfig
    config = VitaleConfig()
    assert (config.transport, config.apcv_endpoint, config.reader) == ("pcsc", "sandbox", None)
    with pytest.raises(ConfigError, match=r"vitale\.transport"):
        VitaleConfig(transport="usb")


def test_config_from_the_runtime(make_segur_runtime):
    runtime = make_segur_runtime(extra_plugins=[("vitale", plugin)],
                                 config={"vitale": {"transport": "virtual", "reader": "ACS"}})
    config = runtime.plugin_config("vitale")
    assert config.transport == "virtual" and config.reader == "ACS"


def test_contributions(vitale_runtime):
    (sandbox,) = plugin.segur_sandboxes(vitale_runtime)
    assert sandbox.name == "apcv"
    checks = {c.name: c for c in plugin.segur_doctor_checks(vitale_runtime)}
    assert set(checks) == {"pcscd", "card readers"}
    for check in checks.values():
        result, message = check.run()
        assert isinstance(result, DoctorResult) and message
    (step,) = plugin.segur_demo_steps(vitale_runtime)
    assert step.order == ORDER == 100


def test_demo_step_in_process(vitale_runtime, tmp_path):
    recorder = HookRecorder.attach(vitale_runtime)
    ctx = DemoContext(runtime=vitale_runtime, out_dir=tmp_path)
    run_demo_step(ctx, prefer_pcsc=False)
    reading = ctx.data["card_reading"]
    assert reading.nir == DEMO_CARDHOLDER.nir and ctx.data["card_transport"] == "in-process"
    assert recorder.one("on_card_read").kwargs["reading"] is reading
    (entry,) = ctx.timeline
    assert "in process" in entry["message"] and entry["transport"] == "in-process"
    assert DEMO_CARDHOLDER.nir not in entry["message"]
    assert DEMO_CARDHOLDER.birth_name not in entry["message"]
    recorder.detach()


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """A segur.toml enabling only segur-vitale, with its data in a temporary folder."""
    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\nmode = "test"\nplugins = ["vitale"]\n'
                      f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return config


def _run(config, *args):
    from segur_core.cli import cli

    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def test_cli_read_virtual_json(cli_env):
    result = _run(cli_env, "vitale", "read", "--virtual", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (beneficiary,) = data["beneficiaries"]
    assert beneficiary["nir"] == DEMO_CARDHOLDER.nir
    assert beneficiary["traits"]["birth_name"] == "ADRUN"
    assert data["card_kind"] == "vitale-2"


def test_cli_read_virtual_table(cli_env):
    result = _run(cli_env, "vitale", "read", "--virtual")
    assert result.exit_code == 0, result.output
    assert "ADRUN" in result.output and "1975-12-31" in result.output


def test_cli_help_lists_the_commands(cli_env):
    result = _run(cli_env, "vitale", "--help")
    assert result.exit_code == 0, result.output
    for command in ("readers", "read", "watch"):
        assert command in result.output


@pytest.mark.parametrize("dispatch", [False, True])
def test_cli_read_journals_the_read_once(cli_env, tmp_path, dispatch):
    from segur_core.runtime import create_runtime

    args = ["vitale", "read", "--virtual", "--json", *(["--dispatch"] if dispatch else [])]
    result = _run(cli_env, *args)
    assert result.exit_code == 0, result.output
    with create_runtime(str(cli_env), autoload=True) as runtime:
        reads = [r for r in runtime.journal.records() if r.action == "vitale.card-read"]
    assert len(reads) == 1
    assert ("rank" in reads[0].details) is dispatch  # dispatch records the chosen one
