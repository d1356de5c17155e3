"""The ``segur`` command line under hostile argument vectors: never a traceback.

Every command and subcommand is discovered from the click group (plugin commands
included) and run in process with generated arguments: huge and negative numbers,
``nan``, 5,000-character paths, ``/dev/zero``, binary files, folders, NUL bytes, unknown
options. The only acceptable ends are an exit status of 0, 1 or 2 (click usage errors)
with no ``Traceback`` in the output, and no exception other than ``SystemExit``. Each
run has its own data directory and working folder, and an alarm turns a hang into a
failure. The reported cases have their own tests below.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segur_core.cli import DEBUG_ENV, CliState, cli
from segur_core.testing.cli import commands as command_tree

#: Commands that run until stopped, or whose full run is exercised elsewhere.
SKIPPED = {
    ("vitale", "watch"): "watches the readers until Ctrl-C",
    ("demo",): "the whole demo (its own tests run it)",
}
#: Options appended to a command that otherwise runs until stopped (the last value wins).
BOUNDED = {("outbox", "run"): ["--for", "0.2"]}
#: Seconds one generated command line may take before it counts as a hang.
HANG_SECONDS = 30
FUZZ_EXAMPLES = 300

HERE = Path(__file__).resolve()


def _write_config(folder: Path) -> Path:
    config = folder / "segur.toml"
    config.write_text(
        f'[segur]\ndata_dir = "{folder / "data"}"\nmode = "demo"\n\n'
        "[documents]\nschematron = false\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def fuzz_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-fuzz")
    _write_config(folder)
    (folder / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (folder / "folder").mkdir()
    (folder / "cda.xml").write_bytes(b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>")
    (folder / "content.json").write_text('{"vaccine": 1}', encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def commands(fuzz_home: Path) -> list[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(cli, obj=CliState(config_path=str(fuzz_home / "segur.toml")))
    found = [
        (path, cmd) for path, cmd in command_tree(cli, ctx, groups=True) if path not in SKIPPED
    ]
    ctx.close()
    return found


def test_discovery_finds_core_and_plugin_commands(commands) -> None:
    paths = {path for path, _cmd in commands}
    for expected in [
        ("outbox", "show"),
        ("audit", "show"),
        ("config", "show"),
        ("doctor",),
        ("cda", "validate"),
        ("ins", "check"),
        ("ins", "identity-check"),
        ("patients", "list"),
        ("patients", "show"),
        ("outbox", "run"),
        ("dmp", "status"),
        ("vitale", "manual"),
    ]:
        assert expected in paths, f"{expected} not discovered among {sorted(paths)}"


def _values(home: Path) -> st.SearchStrategy[str]:
    hostile = [
        "999999999999999999999",
        "9" * 400,
        "-1",
        "0",
        "nan",
        "inf",
        "-inf",
        "1e309",
        "",
        " ",
        "-",
        "a" * 5_000,
        "a/" * 2_500,
        "/dev/zero",
        "/dev/null",
        "/",
        "/proc/self/mem",
        str(home / "binary.bin"),
        str(home / "folder"),
        str(home / "cda.xml"),
        str(home / "content.json"),
        str(home / "missing.xml"),
        "../../../etc/passwd",
        "x\x00y",
        "é" * 100,
        "2024-02-30",
        "9999-99-99T99:99",
        "1:" + "0" * 64,
        "-5:zz",
        "1" * 40 + "d",
        "1234567890123",
        "2800175133108 31",
        "--help",
        "--json",
    ]
    return st.one_of(
        st.sampled_from(hostile),
        st.integers().map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.text(max_size=40),
    )


@st.composite
def _argv(draw, commands, home: Path) -> list[str]:
    path, command = draw(st.sampled_from(commands))
    values = _values(home)
    argv: list[str] = [*path]
    for param in command.params:
        if isinstance(param, click.Option):
            if not draw(st.booleans()):
                continue
            name = draw(st.sampled_from(param.opts))
            if param.is_flag or param.count:
                argv.append(name)
                continue
            choices = getattr(param.type, "choices", None)
            for _ in range(param.nargs if param.nargs > 0 else 1):
                value = draw(st.sampled_from(list(choices)) | values if choices else values)
                argv += [name, value]
        elif isinstance(param, click.Argument):
            if param.nargs == -1:
                count = draw(st.integers(0, 3))
            else:
                count = param.nargs if draw(st.integers(0, 9)) else 0
            choices = getattr(param.type, "choices", None)
            for _ in range(count):
                argv.append(draw(st.sampled_from(list(choices)) | values if choices else values))
    if draw(st.integers(0, 5)) == 0:
        argv.insert(draw(st.integers(len(path), len(argv))), draw(values))
    return [*argv, *BOUNDED.get(path, [])]


class Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise Hang(f"no answer within {HANG_SECONDS} s")


def run(home: Path, argv: list[str]) -> Result:
    """One in-process run in its own working folder, with a hang alarm."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(HANG_SECONDS)
    cwd = os.getcwd()
    os.chdir(home / "folder")
    try:
        return CliRunner().invoke(
            cli,
            ["--config", str(home / "segur.toml"), *argv],
            env={"SEGUR_CONFIG": None, DEBUG_ENV: None, "SEGUR_PLUGINS": None},
            input="",
        )
    finally:
        os.chdir(cwd)
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_clean(result: Result, argv: list[str]) -> None:
    shown = " ".join(repr(a[:60]) for a in argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"segur {shown}: {result.exception!r} escaped") from (result.exception)
    assert "Traceback" not in result.output, f"segur {shown}:\n{result.output[-2000:]}"
    assert result.exit_code in (0, 1, 2), f"segur {shown}: exit {result.exit_code}"


def test_generated_command_lines_never_give_a_traceback(commands, fuzz_home: Path) -> None:
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(_argv(commands, fuzz_home))
    def check(argv: list[str]) -> None:
        assert_clean(run(fuzz_home, argv), argv)

    check()


# -- the reported cases ----------------------------------------------------------------


REPORTED = {
    "outbox-show-huge-id": ["outbox", "show", "999999999999999999999"],
    "outbox-retry-huge-id": ["outbox", "retry", "999999999999999999999"],
    "outbox-list-huge-limit": ["outbox", "list", "--limit", "9" * 30],
    "outbox-purge-huge-age": ["outbox", "purge", "--older-than", "9" * 20 + "w"],
    "audit-show-huge-limit": ["audit", "show", "--limit", "9" * 30],
    "cda-validate-dev-zero": ["cda", "validate", "/dev/zero"],
    "cda-show-dev-zero": ["cda", "show", "/dev/zero"],
    "cda-validate-long-path": ["cda", "validate", "a/" * 2_500],
    "pki-init-long-path": ["pki", "init", "a" * 5_000],
    "pki-init-deep-path": ["pki", "init", "a/" * 2_500],
    "pki-init-nul": ["pki", "init", "x\x00y"],
    "cda-show-nul": ["cda", "show", "x\x00y"],
    "cda-show-unreadable": ["cda", "show", "/proc/self/mem"],
    "cda-validate-kit-nul": ["cda", "validate", "--kit", "x\x00y", "x"],
    "cda-new-out-nul": ["cda", "new", "bpm", "--out", "x\x00y"],
    "dmp-get-output-nul": ["dmp", "get", "--output", "x\x00y", "1"],
    "new-plugin-long-name": ["new-plugin", "b" * 5_000],
    "new-plugin-dir-nul": ["new-plugin", "--dir", "x\x00y", "p"],
    "config-nul": ["--config", "x\x00y", "plugins"],
}


@pytest.mark.parametrize("argv", REPORTED.values(), ids=REPORTED.keys())
def test_reported_command_lines_end_in_one_line(fuzz_home: Path, argv: list[str]) -> None:
    result = run(fuzz_home, argv)
    assert_clean(result, argv)
    assert result.exit_code in (1, 2)
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.output


@pytest.mark.parametrize(
    "content",
    [bytes(range(256)), b"\xff\xfe[segur]\n", b"[segur]\nmode = \xe9\n"],
    ids=["binary", "utf-16-bom", "latin-1"],
)
def test_binary_config_file_is_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "segur.toml"
    path.write_bytes(content)
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "show"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.strip().splitlines() == [
        f"Error: {path}: not UTF-8 text (byte {result.output.split('byte ')[1].split(')')[0]}), "
        "not a segur.toml"
    ]


def test_long_config_path_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["--config", "a/" * 2_500, "plugins"])
    assert result.exit_code == 1
    assert "File name too long" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_oversized_config_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "segur.toml"
    with path.open("wb") as stream:
        stream.truncate(64 * 1024 * 1024)  # sparse: costs no disk
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "show"])
    assert result.exit_code == 1
    assert "larger than" in result.output


@click.command("explode")
def _explode() -> None:
    raise KeyError("boom")


def test_unexpected_errors_are_one_line_unless_debugging(monkeypatch) -> None:
    monkeypatch.setitem(cli.commands, "explode", _explode)
    result = CliRunner().invoke(cli, ["explode"], env={DEBUG_ENV: None})
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.output.strip() == (
        f"Error: unexpected KeyError: 'boom' (set {DEBUG_ENV}=1 to see the traceback)"
    )
    debugging = CliRunner().invoke(cli, ["explode"], env={DEBUG_ENV: "1"})
    assert isinstance(debugging.exception, KeyError)
