"""The ``segur`` command line speaks one way everywhere (``docs/cli.md``): every command
has ``--json`` with one wording and prints one JSON object; a patient is always
``PATIENT`` / ``--patient PATIENT``; an output path is always ``-o/--out PATH``.

The click tree is walked with every installed plugin, so a plugin command that breaks
a rule fails here; a tree built with deliberate violations shows the walk catches them.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from segur_core.cli import CliState, cli
from segur_core.cli.output import JSON_HELP, to_json, when
from segur_core.cli.params import out_option, patient_argument
from segur_core.testing.cli import commands, convention_violations

PLUGIN_GROUPS = {"cda", "dmp", "dp", "eprescription", "example", "ins", "mss", "vitale"}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-conventions")
    (folder / "segur.toml").write_text(
        f'[segur]\ndata_dir = "{folder / "data"}"\nmode = "test"\n\n'
        "[documents]\nschematron = false\n",
        encoding="utf-8",
    )
    return folder


def test_every_command_of_the_core_and_the_plugins_follows_the_conventions(home: Path) -> None:
    ctx = click.Context(cli, obj=CliState(config_path=str(home / "segur.toml")))
    with ctx:
        paths = {path for path, _command in commands(cli, ctx)}
        assert {path[0] for path in paths} >= PLUGIN_GROUPS, "a plugin's commands are missing"
        assert len(paths) >= 45
        assert convention_violations(cli, ctx) == []


def test_the_walk_catches_each_kind_of_violation() -> None:
    @click.group()
    def bad() -> None:
        """A tree breaking every rule once."""

    @bad.command("silent")
    @click.argument("patient_id")
    def silent(patient_id: str) -> None:
        """No --json, the patient named otherwise."""

    @bad.command("worded")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.option("--patient", "patient_id", help="x")
    @click.option("--output", type=click.Path())
    def worded(as_json: bool, patient_id: str | None, output: str | None) -> None:
        """--json worded its own way, --patient without its metavar, --output."""

    @bad.command("good")
    @patient_argument()
    @out_option("--dir", help="Where.")
    @click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
    def good(patient: str, out: str | None, as_json: bool) -> None:
        """Follows every rule (the hidden --dir alias is allowed)."""

    with click.Context(bad) as ctx:
        found = convention_violations(bad, ctx)
    assert found == [
        "silent: no --json",
        "silent: patient argument 'patient_id', not PATIENT",
        f"worded: --json worded 'Machine-readable output.', not {str(JSON_HELP)!r}",
        "worded: patient option ['--patient'], not --patient PATIENT",
        "worded: output option ['--output'], not -o/--out",
    ]


def _run(home: Path, *args: str, code: int = 0):
    result = CliRunner(env={"COLUMNS": "80"}).invoke(
        cli, ["--config", str(home / "segur.toml"), *args]
    )
    assert result.exit_code == code, (result.output, result.exception)
    return result


@pytest.mark.parametrize(
    "args",
    [
        ("config", "show"),
        ("plugins",),
        ("outbox", "list"),
        ("audit", "show"),
        ("audit", "verify"),
        ("audit", "anchor"),
        ("patients", "list"),
        ("ins", "check", "2 75 12 63 220 749 74"),
        ("eprescription", "scan", "1234567890ABCDEFGH"),
    ],
    ids=" ".join,
)
def test_json_is_one_object_on_stdout_alone(home: Path, args: tuple[str, ...]) -> None:
    result = _run(home, *args, "--json")
    data = json.loads(result.stdout)
    assert isinstance(data, dict) and data
    assert result.stderr == ""


def test_json_of_a_report_that_fails_is_still_one_object(home: Path) -> None:
    result = _run(home, "ins", "check", "275126322074975", "--json", code=1)
    assert json.loads(result.stdout)["valid"] is False


def test_the_console_samples_of_docs_cli_md_print_what_they_say(home: Path) -> None:
    import re
    import shlex

    text = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    samples = re.findall(r"```console\n\$ segur (.*?)\n(.*?)```", text, re.S)
    assert samples
    for command, shown in samples:
        result = _run(home, *shlex.split(command))
        assert json.loads(result.stdout) == json.loads(shown), command


def test_new_plugin_keeps_dir_as_a_deprecated_alias(tmp_path: Path) -> None:
    new = CliRunner().invoke(cli, ["new-plugin", "alpha", "-o", str(tmp_path / "a"), "--json"])
    assert new.exit_code == 0, new.output
    assert json.loads(new.stdout) == {"name": "alpha", "path": str(tmp_path / "a/segur-alpha")}
    assert new.stderr == ""
    old = CliRunner().invoke(cli, ["new-plugin", "beta", "--dir", str(tmp_path / "b")])
    assert old.exit_code == 0, old.output
    assert (tmp_path / "b" / "segur-beta").is_dir()
    assert "--dir is deprecated; use -o/--out" in old.stderr
    assert "--dir" not in CliRunner().invoke(cli, ["new-plugin", "--help"]).output


def test_to_json_refuses_a_bare_list_and_writes_dates_as_iso() -> None:
    import datetime as dt

    with pytest.raises(TypeError):
        to_json([1, 2])  # type: ignore[arg-type]
    at = dt.datetime(2026, 12, 2, 4, 49, tzinfo=dt.UTC)
    assert json.loads(to_json({"at": at, "on": at.date()})) == {
        "at": "2026-12-02T04:49:00+00:00",
        "on": "2026-12-02",
    }


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-02T04:49:07.123456+00:00",
        "20261202044907",
        "20261202044907+0000",
        1796186947.5,
    ],
)
def test_when_shows_a_time_as_a_local_date_and_minute(value, monkeypatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    try:
        assert when(value) == "2026-12-02 04:49"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_when_shows_a_date_alone_and_leaves_other_text() -> None:
    assert when("20261202") == "2026-12-02"
    assert when("1985-00-00") == "1985-00-00"  # a birth date with unknown parts
    assert when(None) == "" and when("", empty="-") == "-"
