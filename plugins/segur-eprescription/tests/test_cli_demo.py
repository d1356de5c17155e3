"""``segur eprescription scan|show|dispense`` through click's CliRunner, and the demo step."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from segur_core.plugin import DemoContext
from segur_core.runtime import create_runtime

CONFIG = '[segur]\ndata_dir = "{}"\nmode = "test"\nplugins = ["eprescription"]\n'


@pytest.fixture
def segur(tmp_path: Path):
    from segur_core.cli import cli

    config = tmp_path / "segur.toml"
    config.write_text(CONFIG.format(tmp_path / "data"))

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), "eprescription", *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    return run


def test_scan_show_dispense(segur, tmp_path: Path) -> None:
    assert json.loads(segur("scan", "sbx0 0000 0000 0000 02", "--json"))["id"] == (
        "SBX000000000000002"
    )
    shown = json.loads(segur("show", "SBX000000000000001", "--json"))
    assert [line["substitutable"] for line in shown["lines"]] == [True, False, True]
    assert "non substituable" in segur("show", "SBX000000000000001")
    out = tmp_path / "out"
    args = ["--substitute", "1=3400933516390:PARACETAMOL", "--not-delivered", "3=refus"]
    done = json.loads(segur("dispense", "SBX000000000000001", *args, "--out", str(out), "--json"))
    assert done["report_state"] == "delivered"
    assert [x["decision"] for x in done["lines"]] == ["substituted", "delivered", "not-delivered"]
    path = Path(done["edisp"])
    assert path.parent == out and path.stat().st_mode & 0o777 == 0o600
    assert b"1.2.250.1.213.1.1.1.54" in path.read_bytes()


def test_errors_are_one_clear_line(segur) -> None:
    assert "no prescription id" in segur("scan", "https://example.org/", code=1)
    assert "no prescription with this id" in segur("show", "ZZZZZZZZZZZZZZZZZZ", code=1)
    refused = segur("dispense", "SBX000000000000001", "--substitute", "2=3400933516390", code=1)
    assert "non-substitutable" in refused and "Traceback" not in refused
    assert "LINE=VALUE" in segur("dispense", "SBX000000000000001", "--adapt", "x", code=2)


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet=string.printable, max_size=60))
def test_scan_command_never_shows_a_traceback(payload: str) -> None:
    from segur_core.cli import cli

    result = CliRunner().invoke(cli, ["eprescription", "scan", "--json", "--", payload])
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert len(json.loads(result.output)["id"]) == 18


def test_demo_step(tmp_path: Path) -> None:
    from segur_eprescription.demo import run_demo_step

    runtime = create_runtime(
        {"segur": {"mode": "test", "plugins": ["eprescription"]}},
        data_dir=tmp_path / "data", autoload=True,
    )  # fmt: skip
    try:
        ctx = DemoContext(runtime=runtime, out_dir=tmp_path / "out")
        run_demo_step(ctx)
    finally:
        runtime.close()
    messages = [e["message"] for e in ctx.timeline]
    assert "generic substitution" in messages[1] and "delivered" in messages[1]
    [written] = (tmp_path / "out").glob("eDISP-MED_*.xml")
    assert b'code="G"' in written.read_bytes()
