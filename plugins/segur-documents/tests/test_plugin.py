"""Plugin wiring: hooks, doctor checks, the ``segur cda`` commands and the demo step."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from segur_documents import DocumentsConfig, build_vaccination, plugin, read_cda
from segur_documents.cli import cda
from segur_documents.testing import rendering_unavailable

from segur_core.model import DocumentStatus
from segur_core.plugin import DemoContext, DoctorResult
from segur_core.testing.plugin import assert_hookimpls_match_specs

from .test_builders import vaccination

segur_ins_plugin = pytest.importorskip("segur_ins.plugin")


@pytest.fixture
def segur_plugins():
    return [("documents", plugin), ("ins", segur_ins_plugin)]


@pytest.fixture
def segur_config(kit_path, cache_dir):
    return {"documents": {"kit_path": str(kit_path), "cache_dir": str(cache_dir)}}


def test_hookimpls_match_specs():
    assert_hookimpls_match_specs(plugin)


def test_plugin_info():
    info = plugin.segur_plugin_info()
    assert info.name == "documents"
    assert info.config_class is DocumentsConfig
    assert DocumentsConfig().schematron is True


def test_config_is_structured(segur_runtime, kit_path):
    config = segur_runtime.plugin_config("documents")
    assert isinstance(config, DocumentsConfig)
    assert config.kit_path == str(kit_path)


def test_doctor_checks(segur_runtime):
    checks = plugin.segur_doctor_checks(segur_runtime)
    results = {check.name: check.run() for check in checks}
    assert results["documents: CI-SIS kit"][0] is DoctorResult.OK
    assert results["documents: saxonche"][0] is DoctorResult.OK
    rendering, message = results["documents: PDF renderings"]
    if rendering_unavailable() is None:
        assert rendering is DoctorResult.OK and message.endswith("CDA-FO.xsl")


def test_demo_step(segur_runtime, tmp_path, hook_recorder, official_validator):
    (step,) = plugin.segur_demo_steps(segur_runtime)
    assert step.order == 400
    ctx = DemoContext(runtime=segur_runtime, out_dir=tmp_path)
    step.run(ctx)
    documents = ctx.data["documents"]
    assert [d.type_code for d in documents] == ["87273-9", "78601-2", "56445-0"]
    assert all(d.status is DocumentStatus.VALIDATED for d in documents)
    events = [c for c in hook_recorder.calls if c.name == "on_document_validated"]
    assert len(events) == 3
    for kind in ("vaccination", "entretien", "bpm"):
        assert (tmp_path / "documents" / f"{kind}.xml").is_file()
        checks = json.loads((tmp_path / "documents" / f"{kind}.checks.json").read_text())
        assert checks["valid"] is True
    assert (tmp_path / "documents" / "bpm.pdf").read_bytes().startswith(b"%PDF")


# -- command line ------------------------------------------------------------------------


def test_cli_validate(tmp_path, context, kit_path, official_validator):
    good = tmp_path / "good.xml"
    good.write_bytes(build_vaccination(vaccination(), context).xml)
    bad = tmp_path / "bad.xml"
    bad.write_bytes(good.read_bytes().replace(b"<lotNumberText>4456672</lotNumberText>", b""))
    runner = CliRunner()
    result = runner.invoke(cda, ["validate", "--kit", str(kit_path), str(good)])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output
    result = runner.invoke(cda, ["validate", "--kit", str(kit_path), str(good), str(bad)])
    assert result.exit_code == 1
    assert "INVALID" in result.output and "numéro de lot" in result.output
    result = runner.invoke(cda, ["validate", "--json", "--kit", str(kit_path), str(bad)])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["valid"] is False
    (report,) = data["files"]
    assert report["file"] == str(bad)
    assert report["valid"] is False
    assert any(i["location"].startswith("/ClinicalDocument") for i in report["issues"])


def test_cli_new_interactive(tmp_path, segur_runtime, patient, monkeypatch):
    import segur_core.cli as core_cli

    stored = segur_runtime.host.save_patient(patient)
    monkeypatch.setattr(core_cli, "get_runtime", lambda: segur_runtime)
    out = tmp_path / "entretien.xml"
    answers = (
        "\n".join(
            [
                stored.id,  # patient id
                "Observance",
                "Bonne observance.",  # one section
                "",  # no more sections
                "2024-10-03",  # date
                "Anticoagulants oraux",  # theme
            ]
        )
        + "\n"
    )
    result = CliRunner().invoke(cda, ["new", "entretien", "--out", str(out)], input=answers)
    assert result.exit_code == 0, result.output
    assert "draft" in result.output
    doc = read_cda(out.read_bytes())
    assert doc.type.code == "78601-2"
    assert doc.title.endswith("Anticoagulants oraux")


def test_cli_show(kit_path):
    example = kit_path / "ExemplesCDA" / "DOC_NON_STRUCTURE_CDA-R2-N1.xml"
    result = CliRunner().invoke(cda, ["show", str(example)])
    assert result.exit_code == 0, result.output
    assert "11502-2" in result.output
    assert "application/pdf" in result.output
    assert "PAT-TROIS" in result.output


def test_cli_new_from_json(tmp_path, kit_path, cache_dir, patient, official_validator):
    from segur_core.cli import cli
    from segur_core.runtime import create_runtime

    config = tmp_path / "segur.toml"
    config.write_text(
        f'[segur]\nmode = "test"\ndata_dir = "{tmp_path / "data"}"\n'
        f'plugins = ["documents", "ins"]\n'
        f'[documents]\nkit_path = "{kit_path}"\ncache_dir = "{cache_dir}"\n',
        encoding="utf-8",
    )
    with create_runtime(str(config)) as runtime:
        runtime.host.save_patient(patient)
    content = {
        "vaccine": {
            "cis": "68747507",
            "label": "VACCIN TETANIQUE PASTEUR",
            "atc": "J07AM",
            "atc_label": "vaccins tétaniques",
        },
        "lot_number": "X123",
        "administered_on": "2024-10-02",
        "act": "BOOSTER",
        "dose_rank": 2,
        "route": "20035000",
    }
    source = tmp_path / "vaccination.json"
    source.write_text(json.dumps(content), encoding="utf-8")
    out = tmp_path / "out.xml"
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(config),
            "cda",
            "new",
            "vaccination",
            "--patient",
            patient.id,
            "--from-json",
            str(source),
            "--out",
            str(out),
            "--validate",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "validated" in result.output
    assert b"X123" in out.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**content, "route": "nope"}), encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(config),
            "cda",
            "new",
            "vaccination",
            "--patient",
            patient.id,
            "--from-json",
            str(bad),
        ],
    )
    assert result.exit_code != 0
    assert "not a valid Vaccination" in result.output
