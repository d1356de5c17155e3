"""``segur export``, ``segur export verify`` and ``segur import`` through the command
line, against reference hosts configured by ``segur.toml``."""

from __future__ import annotations

import contextlib
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segur_core.cli import cli
from segur_core.runtime import create_runtime
from segur_core.testing.pki import TestPKI

from .conftest import fill


def _config(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "segur.toml"
    path.write_text(
        f'[segur]\nmode = "test"\ndata_dir = "{folder / "data"}"\nplugins = ["portability"]\n',
        encoding="utf-8",
    )
    return path


def _segur(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def configured(tmp_path: Path, built_documents):
    source = _config(tmp_path / "source")
    runtime = create_runtime(source)
    try:
        ids = fill(runtime, built_documents)
    finally:
        runtime.close()
    return source, ids


def test_export_verify_import_on_the_command_line(configured, tmp_path: Path):
    source, ids = configured
    done = _segur("--config", str(source), "export", "--out", str(tmp_path / "out"), "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    archive = Path(result["path"])
    assert archive.exists() and result["patients"] == 3

    checked = _segur("--config", str(source), "export", "verify", str(archive), "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["ok"] is True

    target = _config(tmp_path / "target")
    refused = _segur("--config", str(target), "import", str(archive))
    assert refused.exit_code == 1  # signed by a CA the target does not trust
    assert "signature SIGN.XML" in refused.output
    ca = TestPKI.load(source.parent / "data" / "pki").ca_bundle
    imported = _segur("--config", str(target), "import", str(archive), "--ca", str(ca), "--json")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["patients"] == 3
    listed = _segur("--config", str(target), "patients", "list", "--json")
    assert sorted(p["id"] for p in json.loads(listed.output)["patients"]) == sorted(ids)


def test_verify_of_an_altered_archive_exits_1_and_lists_it(configured, tmp_path: Path):
    source, _ids = configured
    done = _segur("--config", str(source), "export", "--out", str(tmp_path), "--json")
    archive = Path(json.loads(done.output)["path"])
    with zipfile.ZipFile(archive, "a") as top:
        top.writestr("EXTRA.TXT", b"added")
    checked = _segur("--config", str(source), "export", "verify", str(archive))
    assert checked.exit_code == 1
    assert "added" in checked.output and "EXTRA.TXT" in checked.output
    refused = _segur("--config", str(_config(tmp_path / "t")), "import", str(archive))
    assert refused.exit_code == 1 and "does not verify" in refused.output
    assert "Traceback" not in refused.output


@given(
    args=st.lists(
        st.sampled_from(
            ["--out", "--patient", "--since", "--json", "verify", "x", "2024-13-01", "P000001", ""]
        ),
        max_size=5,
    )
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_command_line_ends_cleanly(configured, tmp_path_factory, args):
    source, _ids = configured
    out = tmp_path_factory.mktemp("cli")
    runner = CliRunner()
    with contextlib.chdir(out):  # a stray relative --out lands in a test folder
        argv = ["--config", str(source), "export", *[str(out) if a == "x" else a for a in args]]
        result = runner.invoke(cli, argv)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
