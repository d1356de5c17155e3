"""Progress on anything a person waits on (``docs/cli.md``): drawn on a terminal's stderr,
never on a pipe, never with ``--json``. Each command runs as a real process, once with
its output on a pseudo-terminal and once through pipes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT.parent / "shared" / "cisis" / "TestContenuCDA-3-0"
SEGUR = [sys.executable, "-c", "from segur_core.cli import main; main()"]
#: What rich writes to draw and clear a progress bar (cursor moves, hide/show cursor).
CONTROL = ("\x1b[?25l", "\x1b[2K", "\x1b[1A")


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm", "SEGUR_LANG": "en"}
    env["SEGUR_CONFIG"] = str(home / "segur.toml")
    for name in ("NO_COLOR", "CI", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    return env


def on_a_terminal(args: list[str], home: Path, timeout: float = 300) -> tuple[int, str]:
    """Run ``segur args`` with stdin, stdout and stderr on a pseudo-terminal; everything
    it wrote there, and its exit status."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [*SEGUR, *args], stdin=slave, stdout=slave, stderr=slave, env=_env(home), cwd=home
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        code = process.wait(timeout=30)
    return code, b"".join(chunks).decode("utf-8", "replace")


def through_pipes(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SEGUR, *args], capture_output=True, text=True, env=_env(home), cwd=home, timeout=300
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "segur.toml").write_text(
        f'[segur]\ndata_dir = "{tmp_path / "data"}"\nmode = "test"\nplugins = ["documents"]\n',
        encoding="utf-8",
    )
    for n in range(3):  # not valid CDA: the structural checks report them, quickly
        (tmp_path / f"doc{n}.xml").write_bytes(b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>")
    return tmp_path


FILES = ["doc0.xml", "doc1.xml", "doc2.xml"]


def test_validating_several_files_shows_progress_on_a_terminal(home: Path) -> None:
    code, screen = on_a_terminal(["cda", "validate", "--no-schematron", *FILES], home)
    assert code == 1, screen  # invalid documents
    assert "validating doc" in screen and "/3" in screen
    assert any(control in screen for control in CONTROL)
    assert "doc2.xml: INVALID" in screen  # the report itself is unchanged


def test_a_pipe_and_json_get_no_progress(home: Path) -> None:
    piped = through_pipes(["cda", "validate", "--no-schematron", *FILES], home)
    assert piped.returncode == 1
    assert "doc2.xml: INVALID" in piped.stdout
    for stream in (piped.stdout, piped.stderr):
        assert "validating" not in stream
        assert not any(control in stream for control in CONTROL)
    code, screen = on_a_terminal(["cda", "validate", "--no-schematron", "--json", *FILES], home)
    assert code == 1 and "validating" not in screen
    assert not any(control in screen for control in CONTROL)


@pytest.mark.slow
@pytest.mark.skipif(not KIT.is_dir(), reason="the CI-SIS kit is not in ../shared/cisis")
def test_the_first_schematron_compilation_shows_progress_on_a_terminal(home: Path) -> None:
    example = KIT / "ExemplesCDA" / "VAC-NOTE_2023.01.xml"
    code, screen = on_a_terminal(["cda", "validate", "--kit", str(KIT), str(example)], home)
    assert code == 0, screen[-2000:]
    assert "compiling 6 official schematron(s) on first use" in screen
    assert "compiling CI-SIS_VAC-NOTE_2023.01.sch" in screen
    assert "VAC-NOTE_2023.01.xml: VALID" in screen
