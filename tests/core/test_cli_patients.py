"""``segur patients list/show``: the patients of the configured host on the pharmacist's
screen (names shown, INS masked), the reference host or the editor's own."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from segur_core.cli import cli
from segur_core.cli._state import cli_actor
from segur_core.model import INS, BirthDate, Identity, IdentityTraits, Patient
from segur_core.runtime import create_runtime

MATRICULE = "275126322074975"


def _editor_host_source() -> str:
    """The small editor's host of ``test_host_setting.py`` (one source for both tests)."""
    path = Path(__file__).with_name("test_host_setting.py")
    spec = importlib.util.spec_from_file_location("_segur_host_setting_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EDITOR_HOST


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    name = f"editor_host_{uuid.uuid4().hex[:8]}"
    site = tmp_path / "site"
    site.mkdir()
    (site / f"{name}.py").write_text(textwrap.dedent(_editor_host_source()), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("SEGUR_HOST", raising=False)
    yield name
    sys.modules.pop(name, None)


def _config(folder: Path, host: str | None = None) -> Path:
    path = folder / "segur.toml"
    lines = ["[segur]", 'mode = "test"', f'data_dir = "{folder / "data"}"']
    if host is not None:
        lines.append(f'host = "{host}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _patients() -> list[Patient]:
    qualified = Identity(
        traits=IdentityTraits("DUPONT", ("MARIE", "ANNE"), "F", BirthDate(1975, 12, 1)),
        status="QUAL",
        ins=INS(matricule=MATRICULE, oid="1.2.250.1.213.1.4.8"),
    )
    plain = Identity(traits=IdentityTraits("MARTIN", ("PAUL",), "M", BirthDate(1980, 1, 2)))
    return [Patient(id="", identity=qualified), Patient(id="", identity=plain)]


def _seed(config: Path, host: str | None = None) -> list[str]:
    with create_runtime(str(config), host=host, autoload=False) as runtime:
        return [runtime.host.save_patient(p).id for p in _patients()]


def _segur(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_list_and_show_through_the_reference_host(tmp_path):
    config = _config(tmp_path)
    first, second = _seed(config)
    result = _segur("--config", str(config), "patients", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["patients"]
    assert [r["id"] for r in rows] == [first, second]
    assert rows[0]["birth_name"] == "DUPONT" and rows[0]["first_names"] == ["MARIE", "ANNE"]
    assert rows[0]["status"] == "QUAL" and rows[0]["ins"] == "2 75 12 ** *** *** 75"
    assert rows[1]["ins"] is None and rows[1]["birth_date"] == "1980-01-02"
    limited = _segur("--config", str(config), "patients", "list", "--limit", "1", "--json")
    assert [r["id"] for r in json.loads(limited.output)["patients"]] == [first]
    table = _segur("--config", str(config), "patients", "list")
    assert "DUPONT" in table.output and "2 patients" in table.output
    shown = _segur("--config", str(config), "patients", "show", first, "--json")
    assert shown.exit_code == 0 and json.loads(shown.output) == rows[0]
    text = _segur("--config", str(config), "patients", "show", first).output
    assert "MARIE ANNE" in text
    for output in (result.output, table.output, shown.output, text):
        assert MATRICULE not in output  # never the full INS


def test_every_patient_shown_is_journaled_and_nothing_logged(tmp_path):
    config = _config(tmp_path)
    (first, second) = _seed(config)
    _segur("--config", str(config), "patients", "list")
    _segur("--config", str(config), "patients", "show", first)
    _segur("--config", str(config), "patients", "show", "P404")  # nothing shown, nothing read
    with create_runtime(str(config), autoload=False) as runtime:
        reads = [
            (r.action, r.patient_id, r.actor)
            for r in runtime.journal.records()
            if r.action.startswith("patients.")
        ]
    who = cli_actor()
    assert reads == [
        ("patients.list", first, who),
        ("patients.list", second, who),
        ("patients.show", first, who),
    ]
    for log in (tmp_path / "data").rglob("*.log"):
        assert "DUPONT" not in log.read_text(errors="replace")


def test_an_unknown_patient_is_one_line(tmp_path):
    config = _config(tmp_path)
    result = _segur("--config", str(config), "patients", "show", "P404")
    assert result.exit_code == 1 and result.output.strip() == "Error: no patient 'P404' in the host"


def test_the_editor_s_host_is_the_one_listed(editor, tmp_path):
    config = _config(tmp_path, f"{editor}:make")
    ids = _seed(config)
    assert ids == ["ED0001", "ED0002"]
    result = _segur("--config", str(config), "patients", "list", "--json")
    assert [r["id"] for r in json.loads(result.output)["patients"]] == ids
    assert not (tmp_path / "data" / "host.sqlite").exists()


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=80))
def test_any_patient_argument_ends_cleanly(tmp_path_factory, patient_id):
    config = _config(tmp_path_factory.mktemp("patients"))
    result = _segur("--config", str(config), "patients", "show", patient_id)
    assert result.exit_code in (1, 2) and "Traceback" not in result.output
