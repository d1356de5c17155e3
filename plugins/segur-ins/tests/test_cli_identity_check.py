"""``segur ins identity-check``: the pharmacist's high-trust document check, recorded from
the command line after an INSi search against the sandbox (RECUP -> QUAL)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from segur_ins.cli import DOCUMENTS
from segur_ins.sandbox.persons import CNDA_PERSONS

from segur_core.cli import cli
from segur_core.model import Identity, Patient
from segur_core.runtime import create_runtime


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "segur.toml"
    path.write_text(
        f'[segur]\nmode = "test"\nplugins = ["ins"]\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    return path


def _invoke(config_file, *args):
    return CliRunner().invoke(cli, ["--config", str(config_file), "ins", *args])


def _seed(config_file) -> str:
    with create_runtime(str(config_file), autoload=True) as runtime:
        patient = Patient(id="", identity=Identity(traits=CNDA_PERSONS[4].traits()))
        return runtime.host.save_patient(patient).id


def test_identity_check_after_insi_gives_qual(config_file):
    patient_id = _seed(config_file)
    assert _invoke(config_file, "qualify", patient_id, "--json").exit_code == 0
    result = _invoke(config_file, "identity-check", patient_id, "--document", "CNI", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"patient": patient_id, "document": "CN", "status": "QUAL"}
    with create_runtime(str(config_file), autoload=True) as runtime:
        assert runtime.host.get_patient(patient_id).identity.status == "QUAL"
        records = [r for r in runtime.journal.records() if r.action == "ins.identity"]
        assert records[-1].details["source"] == "document-check"


def test_identity_check_before_insi_gives_valide(config_file):
    patient_id = _seed(config_file)
    result = _invoke(config_file, "identity-check", patient_id, "--document", "passeport")
    assert result.exit_code == 0, result.output
    assert "PA checked" in result.output and "VALI" in result.output


def test_identity_check_refusals(config_file):
    patient_id = _seed(config_file)
    result = _invoke(config_file, "identity-check", patient_id, "--document", "permis")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert all(name in result.output for name in DOCUMENTS)
    result = _invoke(config_file, "identity-check", "P404", "--document", "cni")
    assert result.exit_code == 1 and "no patient" in result.output


def test_every_document_name_maps_to_a_high_trust_code():
    from segur_ins import HighTrustDocument

    assert set(DOCUMENTS.values()) <= {str(d) for d in HighTrustDocument}


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=60))
def test_any_document_name_is_accepted_or_refused_cleanly(tmp_path_factory, name):
    folder = tmp_path_factory.mktemp("idcheck")
    config = folder / "segur.toml"
    config.write_text(f'[segur]\nmode = "test"\nplugins = ["ins"]\ndata_dir = "{folder}"\n')
    result = _invoke(config, "identity-check", "P1", "--document", name)
    assert result.exit_code in (1, 2) and "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
