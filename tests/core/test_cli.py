"""The segur command line, through click's CliRunner and real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from segur_core.cli import cli
from segur_core.model import BirthDate, CardReading, IdentityTraits
from segur_core.runtime import create_runtime

EXPLODING = """
from segur_core import hookimpl
from segur_core.plugin import PluginInfo

@hookimpl
def segur_plugin_info():
    return PluginInfo(name="exploding", version="0.3", summary="raises in on_card_read")

@hookimpl
def on_card_read(reading):
    raise ZeroDivisionError("patient 2750175123456 broke me")
"""

WITNESS = """
from segur_core import hookimpl
from segur_core.plugin import DemoStep

seen = []

@hookimpl
def on_card_read(reading):
    seen.append(reading)

@hookimpl
def segur_cli_commands(cli):
    import click

    @cli.command("witness")
    def witness():
        "Say how many readings were seen."
        click.echo(f"seen {len(seen)}")

def _ok(context):
    context.record("witness", "all good")
    context.artefact("witness/hello.txt", "hello")

def _boom(context):
    raise RuntimeError("step exploded")

@hookimpl
def segur_demo_steps(runtime):
    return [DemoStep(order=300, title="Witness fails", run=_boom),
            DemoStep(order=200, title="Witness works", run=_ok)]
"""

BROKEN = "import no_such_module_for_segur_tests\n"

TRAITS = IdentityTraits(
    birth_name="MARTIN", first_names=("ANNE",), sex="F", birth_date=BirthDate(1970, 5, 5)
)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "segur.toml"
    path.write_text(f'[segur]\ndata_dir = "{tmp_path / "data"}"\nmode = "test"\n')
    return path


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_plugins_json_lists_errors_and_contained_failures(fake_dist, config_file, tmp_path):
    witness = fake_dist("witness", WITNESS)
    fake_dist("exploding", EXPLODING)
    fake_dist("broken", BROKEN)
    with create_runtime(str(config_file)) as runtime:
        runtime.card_read(CardReading(source="manual", traits=TRAITS))
        failures = [r for r in runtime.journal.records() if r.action == "plugin.failure"]
    # the host call returned and the other plugin ran
    assert len(sys.modules[witness].seen) == 1
    assert [f.details["plugin"] for f in failures] == ["exploding"]

    result = run("--config", str(config_file), "plugins", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)["plugins"]}
    assert rows["exploding"]["status"] == "loaded"
    assert rows["exploding"]["failures"] == 1
    assert rows["exploding"]["calls"] == 1
    assert rows["exploding"]["last_error"].startswith("ZeroDivisionError at ")
    assert rows["exploding"]["last_hook"] == "on_card_read"
    assert "2750175123456" not in result.output
    assert rows["exploding"]["distribution"] == "fake-exploding"
    assert rows["exploding"]["version"] == "0.3"
    assert rows["witness"]["failures"] == 0
    assert "on_card_read" in rows["witness"]["hooks"]
    assert rows["broken"]["status"] == "error"
    assert "no_such_module_for_segur_tests" in rows["broken"]["error"]
    assert rows["example"]["enabled"] is False

    table = run("--config", str(config_file), "plugins")
    assert table.exit_code == 0
    reset = run("--config", str(config_file), "plugins", "--json", "--reset-counters")
    rows_after = {row["name"]: row for row in json.loads(reset.output)["plugins"]}
    assert rows_after["exploding"]["failures"] == 0
    assert "exploding: 1 contained failures in 1 calls, last in on_card_read" in table.output
    assert "no_such_module_for_segur_tests" in table.output


def test_strict_fails_on_a_broken_plugin(fake_dist, config_file):
    fake_dist("broken", BROKEN)
    result = CliRunner().invoke(cli, ["--config", str(config_file), "--strict", "plugins"])
    assert result.exit_code == 1
    assert "broken" in result.output and "import failed" in result.output
    result = CliRunner().invoke(cli, ["--config", str(config_file), "plugins", "--strict"])
    assert result.exit_code == 1


def test_plugin_commands_are_added(fake_dist, config_file):
    fake_dist("witness", WITNESS)
    result = run("--config", str(config_file), "--help")
    assert "witness" in result.output
    assert "plugins" in result.output
    result = run("--config", str(config_file), "witness")
    assert result.output.strip() == "seen 0"


def test_config_show_redacts_secrets(config_file, monkeypatch):
    monkeypatch.setenv("EXAMPLE_TOKEN", "tok-very-secret")
    config_file.write_text(
        config_file.read_text()
        + '\n[example]\njournal = false\n\n[other]\ntoken = "env:EXAMPLE_TOKEN"\n'
        + 'password = "inline-password"\n'
    )
    monkeypatch.setenv("SEGUR_PLUGINS", "example")
    result = run("--config", str(config_file), "config", "show", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["segur"]["mode"] == "test"
    assert data["example"]["journal"] is False
    assert "card_read" in data["example"]["events"]  # defaults are filled in
    assert data["other"] == {"token": "***", "password": "***"}
    text = run("--config", str(config_file), "config", "show").output
    for output in (result.output, text):
        assert "tok-very-secret" not in output
        assert "inline-password" not in output
    assert "[example]" in text


def test_config_error_is_reported_with_the_key(tmp_path):
    path = tmp_path / "segur.toml"
    path.write_text('[segur]\nmode = "prod"\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "show"])
    assert result.exit_code == 1
    assert "segur.mode" in result.output


def test_doctor_json(config_file, monkeypatch):
    monkeypatch.setenv("SEGUR_PLUGINS", "example")
    result = CliRunner().invoke(cli, ["--config", str(config_file), "doctor", "--json"])
    data = json.loads(result.output)
    checks = {(c["check"], c["plugin"]): c for c in data["checks"]}
    assert checks[("config", "segur")]["result"] == "ok"
    assert checks[("journal", "segur")]["result"] == "skipped"  # before the first run
    assert not (config_file.parent / "data").exists()  # doctor created nothing
    assert checks[("example events", "example")]["result"] == "ok"
    assert data["ok"] is True and result.exit_code == 0
    (config_file.parent / "data").mkdir()
    result = CliRunner().invoke(cli, ["--config", str(config_file), "doctor", "--json"])
    checks = {(c["check"], c["plugin"]): c for c in json.loads(result.output)["checks"]}
    assert checks[("journal", "segur")]["result"] == "ok"


def test_doctor_fails_on_broken_plugin(fake_dist, config_file):
    fake_dist("broken", BROKEN)
    result = CliRunner().invoke(cli, ["--config", str(config_file), "doctor", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["ok"] is False


def test_demo_continues_after_a_failed_step(fake_dist, config_file, tmp_path):
    fake_dist("witness", WITNESS)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["--config", str(config_file), "demo", "--json", "--out", str(out)]
    )
    assert result.exit_code == 1
    data = json.loads(result.output)
    steps = [(s["title"], s["status"]) for s in data["steps"]]
    assert steps == [
        ("Start: plugins and host", "ok"),
        ("Witness works", "ok"),
        ("Witness fails", "failed"),
        ("End: outbox, journal, summary", "ok"),
    ]
    assert "step exploded" in data["steps"][2]["error"]
    assert (out / "witness" / "hello.txt").read_text() == "hello"
    assert (out / "timeline.json").is_file()
    assert (out / "journal.sqlite").is_file()
    assert data["timeline"][-1]["kind"] == "summary"


def test_demo_rich_timeline(fake_dist, config_file):
    fake_dist("witness", WITNESS)
    result = CliRunner().invoke(cli, ["--config", str(config_file), "demo"])
    assert "▶ Witness works" in result.output
    assert "step failed: RuntimeError: step exploded" in result.output
    assert "3 of 4 steps passed" in result.output


def test_demo_without_any_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEGUR_CONFIG", raising=False)
    monkeypatch.setenv("SEGUR_PLUGINS", "example")
    result = CliRunner().invoke(cli, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True
    assert "Example: events seen by a plugin" in [s["title"] for s in data["steps"]]
    assert not (tmp_path / ".segur").exists()  # the demo works in a temporary folder


def test_new_plugin_generates_a_package_whose_tests_pass(tmp_path):
    result = run("new-plugin", "loyalty-card", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    root = tmp_path / "segur-loyalty-card"
    assert (root / "segur_loyalty_card" / "plugin.py").is_file()
    assert 'loyalty-card = "segur_loyalty_card.plugin"' in (root / "pyproject.toml").read_text()
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("SEGUR_PLUGINS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 passed" in proc.stdout
    again = CliRunner().invoke(cli, ["new-plugin", "loyalty-card", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = CliRunner().invoke(cli, ["new-plugin", "Bad_Name", "--dir", str(tmp_path)])
    assert bad.exit_code == 1 and "invalid plugin name" in bad.output


def test_plugins_json_does_not_import_heavy_modules(tmp_path):
    code = (
        "import sys\n"
        "from segur_core.cli import cli\n"
        "try:\n"
        "    cli.main(['plugins', '--json'], standalone_mode=False)\n"
        "finally:\n"
        "    heavy = {'rich', 'cattrs', 'lxml', 'cryptography', 'httpx', 'segur_core.runtime'}\n"
        "    print('HEAVY', sorted(heavy & set(sys.modules)))\n"
    )
    env = {**os.environ, "SEGUR_PLUGINS": "example"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout
    assert json.loads(proc.stdout.split("HEAVY")[0])["plugins"]


def test_doctor_checks_certificate_expiry(config_file, tmp_path, monkeypatch):
    import datetime as dt

    from segur_core.testing.pki import TestPKI

    monkeypatch.setenv("SEGUR_PLUGINS", "example")
    data = tmp_path / "data"
    TestPKI.create(data / "pki", now=dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    result = CliRunner().invoke(cli, ["--config", str(config_file), "doctor", "--json"])
    certificates = [c for c in json.loads(result.output)["checks"] if c["check"] == "certificates"]
    assert certificates and all(c["result"] == "error" for c in certificates)
    assert any("expired" in c["message"] for c in certificates)
    assert result.exit_code == 1


def test_doctor_accepts_valid_certificates(config_file, tmp_path, monkeypatch):
    from segur_core.testing.pki import TestPKI

    monkeypatch.setenv("SEGUR_PLUGINS", "example")
    TestPKI.create(tmp_path / "data" / "pki")
    result = CliRunner().invoke(cli, ["--config", str(config_file), "doctor", "--json"])
    certificates = [c for c in json.loads(result.output)["checks"] if c["check"] == "certificates"]
    assert [c["result"] for c in certificates] == ["ok"]
    assert result.exit_code == 0


BAD_STEPS = """
from segur_core import hookimpl

@hookimpl
def segur_demo_steps(runtime):
    raise LookupError("cannot build my steps")
"""


def test_demo_goes_on_when_a_plugin_cannot_give_its_steps(fake_dist, config_file):
    fake_dist("witness", WITNESS)
    fake_dist("badsteps", BAD_STEPS)
    result = CliRunner().invoke(cli, ["--config", str(config_file), "demo", "--json"])
    assert result.exit_code == 1
    steps = {(s["title"], s["plugin"]): s for s in json.loads(result.output)["steps"]}
    assert steps[("collect demo steps", "badsteps")]["status"] == "failed"
    assert "cannot build my steps" in steps[("collect demo steps", "badsteps")]["error"]
    assert steps[("Witness works", "witness")]["status"] == "ok"


REMOTE = """
import attrs
from segur_core import hookimpl
from segur_core.plugin import PluginInfo

@attrs.frozen
class RemoteConfig:
    endpoint: str = "sandbox"
    backup_endpoint: str = "sandbox"

@hookimpl
def segur_plugin_info():
    return PluginInfo(name="remote", version="1.0", config_class=RemoteConfig)
"""


def test_doctor_checks_that_endpoints_are_reachable(fake_dist, tmp_path):
    import socket

    fake_dist("remote", REMOTE)
    with socket.create_server(("127.0.0.1", 0)) as listening, socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        up, down = listening.getsockname()[1], closed.getsockname()[1]
        path = tmp_path / "segur.toml"
        path.write_text(
            f'[segur]\ndata_dir = "{tmp_path / "data"}"\nmode = "test"\n'
            f'[remote]\nendpoint = "https://127.0.0.1:{up}/svc"\n'
            f'backup_endpoint = "https://127.0.0.1:{down}/svc"\n'
        )
        result = CliRunner().invoke(cli, ["--config", str(path), "doctor", "--json"])
    checks = [c for c in json.loads(result.output)["checks"] if c["check"] == "endpoint"]
    assert [(c["plugin"], c["result"]) for c in checks] == [("remote", "ok"), ("remote", "error")]
    assert f"remote.endpoint: 127.0.0.1:{up} reachable" in checks[0]["message"]
    assert f"remote.backup_endpoint: 127.0.0.1:{down} unreachable" in checks[1]["message"]
    assert result.exit_code == 1


def test_doctor_warns_about_a_certificate_expiring_within_30_days(
    config_file, tmp_path, monkeypatch
):
    import datetime as dt

    from segur_core.testing.pki import TestPKI

    monkeypatch.setenv("SEGUR_PLUGINS", "example")
    pki = TestPKI.create(tmp_path / "data" / "pki")
    now = dt.datetime.now(dt.UTC)
    pki.issue_client(
        "SOON", not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=12)
    )
    result = CliRunner().invoke(cli, ["--config", str(config_file), "doctor", "--json"])
    certificates = [c for c in json.loads(result.output)["checks"] if c["check"] == "certificates"]
    assert [c["result"] for c in certificates] == ["warning"]
    assert "expires" in certificates[0]["message"]
    assert result.exit_code == 0  # a warning, not a failure


ECHOING = """
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segur_core import hookimpl
from segur_core.plugin import DemoStep
from segur_core.sandbox import Sandbox


class Echo(Sandbox):
    name = "echo"

    def build_app(self):
        async def echo(request: Request) -> Response:
            body = await request.body()
            return Response(b"<ack>" + body + b"</ack>", media_type="application/xml")

        return Starlette(routes=[Route("/svc", echo, methods=["POST"])])


@hookimpl
def segur_sandboxes(runtime):
    return [Echo()]


def _call(context):
    url = context.runtime.sandbox("echo").url
    reply = httpx.post(url + "/svc", content=b"<hello/>", headers={"content-type": "text/xml"})
    context.record("echoing", reply.text)


@hookimpl
def segur_demo_steps(runtime):
    return [DemoStep(order=200, title="Echoing calls its sandbox", run=_call)]
"""


def test_demo_out_keeps_the_messages_exchanged_with_the_sandboxes(fake_dist, config_file, tmp_path):
    fake_dist("echoing", ECHOING)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["--config", str(config_file), "demo", "--json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    request = (out / "messages" / "echo" / "001-request.http").read_bytes()
    response = (out / "messages" / "echo" / "001-response.http").read_bytes()
    assert request.startswith(b"POST /svc\r\nContent-Type: text/xml\r\n\r\n")
    assert request.endswith(b"\r\n\r\n<hello/>")
    assert response.startswith(b"HTTP 200\r\nContent-Type: application/xml")
    assert response.endswith(b"\r\n\r\n<ack><hello/></ack>")
    assert sorted(p.name for p in (out / "messages" / "echo").iterdir()) == [
        "001-request.http",
        "001-response.http",
    ]


def test_root_help_imports_no_command_module_and_no_plugin():
    """``segur --help`` lists every command from static metadata: the core commands'
    modules and the plugin packages stay unimported (seen from the child's sys.modules)."""
    probe = (
        "import sys\n"
        "from segur_core.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('MODULES', ' '.join(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"SEGUR_PLUGINS", "SEGUR_CONFIG"}}
    env.pop("SEGUR_DISABLE_PLUGIN_AUTOLOAD", None)
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    listing, _, modules_line = proc.stdout.rpartition("MODULES ")
    modules = set(modules_line.split())
    from segur_core.cli import CORE_COMMANDS

    for name in CORE_COMMANDS:
        assert name in listing
    for name in ("ins", "dmp", "cda", "vitale"):
        assert f"  {name} " in listing
    assert not modules & set(CORE_COMMANDS.values())
    plugins = {"segur_ins", "segur_dmp", "segur_documents", "segur_vitale", "segur_dp"}
    assert not {m.split(".")[0] for m in modules} & plugins


def test_core_help_table_matches_the_commands():
    from segur_core.cli import CORE_COMMANDS, CORE_HELP, LazyGroup

    group = LazyGroup()
    assert set(CORE_HELP) == set(CORE_COMMANDS)
    for name, text in CORE_HELP.items():
        command = group._core(name)
        assert command is not None
        assert command.get_short_help_str(200) == text


def test_plugin_command_help_is_lazy_but_complete():
    """``segur ins --help`` still imports the plugin and shows its subcommands."""
    result = CliRunner().invoke(cli, ["ins", "--help"])
    assert result.exit_code == 0, result.output
    assert "qualify" in result.output
