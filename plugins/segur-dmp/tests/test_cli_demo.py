"""``segur dmp ...`` through click's CliRunner, and the demo step, on a temporary data dir
(the sandbox DMP keeps its state in the data dir between runtimes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from segur_dmp.testing import fresh_copy, kit_example, kit_patient, vaccination_note

from segur_core.model import Consent, HealthDocument, Patient
from segur_core.plugin import DemoContext
from segur_core.runtime import create_runtime

CONFIG = '[segur]\ndata_dir = "{}"\nmode = "test"\nplugins = ["ins", "dmp"]\n'


def _patient() -> Patient:
    return kit_patient("P-CLI", birth_place=None)


def _document(patient: Patient) -> HealthDocument:
    return vaccination_note(
        patient.id, *fresh_copy(kit_example("VAC-NOTE_2023.01.xml")), title="NOTE"
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _runtime(data_dir: Path):
    return create_runtime(
        {"segur": {"mode": "test", "plugins": ["ins", "dmp"]}}, data_dir=data_dir, autoload=True
    )


def test_cli_status_list_get_mask_delete(tmp_path: Path, data_dir: Path):
    from segur_core.cli import cli

    runtime = _runtime(data_dir)
    try:
        patient = runtime.host.save_patient(_patient())
        runtime.host.record_consent(Consent(patient.id, "dmp-access", True))
        doc = _document(patient)
        runtime.document_validated(doc, patient)
        assert runtime.outbox.run_until_idle(timeout=30)
    finally:
        runtime.close()
    config = tmp_path / "segur.toml"
    config.write_text(CONFIG.format(data_dir))

    def segur(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), "dmp", *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    out = segur("status", patient.id)
    assert doc.id in out and "in-dmp" in out and "authorisation: NON_EXISTE" in out
    assert doc.id in segur("list", patient.id)  # TD0.2, consent on file → TD0.3, ITI-18
    target = tmp_path / "back.xml"
    segur("get", doc.id, "-o", str(target))
    assert target.read_bytes() == doc.content
    segur("mask", doc.id)
    assert "[masqué]" in segur("list", patient.id)
    assert "masked" in segur("status", patient.id)
    segur("unmask", doc.id)
    segur("delete", doc.id)
    assert doc.id not in segur("list", patient.id)
    assert "unknown patient" in segur("list", "NOBODY", code=1)
    assert "give --patient" in segur("mask", "2.25.42", code=1)


def test_demo_step(tmp_path: Path, data_dir: Path):
    from segur_dmp.demo import run_demo_step

    runtime = _runtime(data_dir)
    try:
        ctx = DemoContext(runtime=runtime, out_dir=tmp_path / "out")
        run_demo_step(ctx)
        assert "no validated document" in ctx.timeline[-1]["message"]
        patient = runtime.host.save_patient(_patient())
        docs = [_document(patient), _document(patient)]
        for doc in docs:
            runtime.document_validated(doc, patient)
        ctx = DemoContext(
            runtime=runtime, out_dir=tmp_path / "out", data={"documents": docs, "patient": patient}
        )
        run_demo_step(ctx)
        messages = [entry["message"] for entry in ctx.timeline]
        assert any(m.startswith("2/2 document(s) fed") for m in messages)
        assert any("listed back from the DMP (ITI-18): 2 of ours" in m for m in messages)
        assert {e.unique_id for e in ctx.data["dmp_entries"]} >= {d.id for d in docs}
    finally:
        runtime.close()


def test_demo_step_document_of_unknown_patient_is_not_queued(tmp_path: Path, data_dir: Path):
    """A document whose patient the host does not know is refused (NO_PATIENT) and
    journaled as skipped, as the automatic feed does; nothing goes to the outbox."""
    from segur_dmp.demo import run_demo_step

    runtime = _runtime(data_dir)
    try:
        doc = _document(_patient())  # the patient is never saved in the host
        assert runtime.host.get_patient(doc.patient_id) is None
        ctx = DemoContext(runtime=runtime, out_dir=tmp_path / "out", data={"documents": [doc]})
        run_demo_step(ctx)
        assert ctx.timeline[-1]["message"].startswith("document not sent:")
        assert "unknown" in ctx.timeline[-1]["message"]
        assert runtime.outbox.find(doc.id) is None
        records = runtime.journal.records(patient_id=doc.patient_id)
        assert [(r.action, r.outcome) for r in records] == [("dmp.feed-skipped", "refused")]
        assert records[0].details == {"document": doc.id, "reason": "NO_PATIENT"}
    finally:
        runtime.close()
