"""The complete example of docs/host-integration.md works: its host passes the
conformance kit and its counter code runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "host-integration.md"


def files_of_the_doc() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r'```python title="([^"]+)"\n(.*?)```', text, flags=re.DOTALL)
    return dict(blocks)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    files = files_of_the_doc()
    assert set(files) == {"lgo_segur.py", "counter.py"}
    for name, code in files.items():
        (tmp_path / name).write_text(code, encoding="utf-8")
    return tmp_path


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(cwd), **env}
    environment.pop("SEGUR_CONFIG", None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_example_host_passes_the_conformance_kit(example):
    proc = run(
        [
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--pyargs",
            "hostspecs.conformance",
            "--host-factory=lgo_segur:make_host",
        ],
        example,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout


def test_the_counter_code_runs(example):
    proc = run(["counter.py", str(example / "data")], example, SEGUR_PLUGINS="example")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "shareable INS: None" in proc.stdout
    assert "example failures: 0" in proc.stdout
    assert (example / "data" / "journal.sqlite").is_file()
    # the validated document went through the outbox to segur-example's sender
    assert len(list((example / "data" / "example-receipts").glob("*.json"))) == 1
