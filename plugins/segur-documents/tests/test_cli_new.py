"""``segur cda new`` answered interactively: every kind, and bad answers as errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from segur_documents import plugin, read_cda
from segur_documents.cli import cda

segur_ins_plugin = pytest.importorskip("segur_ins.plugin")


@pytest.fixture
def segur_plugins():
    return [("documents", plugin), ("ins", segur_ins_plugin)]


@pytest.fixture
def segur_config(kit_path, cache_dir):
    # XSD only: the official schematrons are switched off
    return {
        "documents": {"kit_path": str(kit_path), "cache_dir": str(cache_dir), "schematron": False}
    }


@pytest.fixture
def run(segur_runtime, patient, monkeypatch, tmp_path):
    import segur_core.cli as core_cli

    stored = segur_runtime.host.save_patient(patient)
    monkeypatch.setattr(core_cli, "get_runtime", lambda: segur_runtime)

    def run(kind: str, *answers: str, options: tuple[str, ...] = ()):
        out = tmp_path / f"{kind}.xml"
        text = "\n".join([stored.id, *answers]) + "\n"
        args = ["new", kind, "--out", str(out), *options]
        result = CliRunner().invoke(cda, args, input=text)
        return result, out

    return run


VACCINATION = [
    "68747507",  # CIS
    "VACCIN TETANIQUE PASTEUR",
    "J07AM",
    "vaccins tétaniques",
    "",  # no CIP13
    "2",  # dose rank
    "4456672",  # lot
    "2024-10-02",
    "BOOSTER",
    "20035000",  # route
    "",  # no site
]


def test_new_vaccination_interactive(run):
    result, out = run("vaccination", *VACCINATION)
    assert result.exit_code == 0, result.output
    doc = read_cda(out.read_bytes())
    assert doc.type.code == "87273-9" and doc.level == "N3"


def test_new_bpm_interactive(run):
    answers = ["", "ELIQUIS 5 mg", "1-0-1", "", "2024-10-03"]  # no section, one medication
    result, out = run("bpm", *answers)
    assert result.exit_code == 0, result.output
    assert read_cda(out.read_bytes()).type.code == "56445-0"


@pytest.mark.parametrize(
    ("index", "answer", "field"),
    [(0, "1234", "cis"), (9, "999", "route"), (7, "2024-13-45", "date")],
)
def test_bad_answers_are_reported_not_crashes(run, index, answer, field):
    answers = list(VACCINATION)
    answers[index] = answer
    result, out = run("vaccination", *answers)
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, ValueError | TypeError), result.exception
    assert field in result.output
    assert not out.exists()


def test_validation_says_which_official_checks_were_skipped(run):
    result, out = run("vaccination", *VACCINATION, options=("--validate",))
    assert result.exit_code == 0, result.output
    assert "validated" in result.output and out.is_file()
    assert "warning: schématrons officiels non exécutés" in result.output
