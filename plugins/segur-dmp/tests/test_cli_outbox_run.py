"""``segur outbox run``: the CLI's outbox worker feeds the sandbox DMP (a feed queued by
one runtime is delivered by the command, then listed back by ``segur dmp list``)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from segur_dmp.testing import fresh_copy, kit_example, kit_patient, vaccination_note

from segur_core.cli import cli
from segur_core.model import Consent
from segur_core.runtime import create_runtime

CONFIG = '[segur]\ndata_dir = "{}"\nmode = "test"\nplugins = ["ins", "dmp"]\n'


def test_outbox_run_until_idle_feeds_the_dmp(tmp_path: Path):
    data_dir = tmp_path / "data"
    runtime = create_runtime(
        {"segur": {"mode": "test", "plugins": ["ins", "dmp"]}}, data_dir=data_dir, autoload=True
    )
    try:
        patient = runtime.host.save_patient(kit_patient("P-RUN", birth_place=None))
        runtime.host.record_consent(Consent(patient.id, "dmp-access", True))
        doc = vaccination_note(
            patient.id, *fresh_copy(kit_example("VAC-NOTE_2023.01.xml")), title="NOTE"
        )
        runtime.document_validated(doc, patient)
        assert {str(s): n for s, n in runtime.outbox.counts().items()}.get("pending") == 1
    finally:
        runtime.close()
    config = tmp_path / "segur.toml"
    config.write_text(CONFIG.format(data_dir))

    def segur(*args: str) -> object:
        return CliRunner().invoke(cli, ["--config", str(config), *args])

    result = segur("outbox", "run", "--until-idle", "--timeout", "60", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["idle"] is True and data["interrupted"] is False
    assert data["before"].get("pending") == 1
    assert data["counts"].get("delivered") == 1 and not data["counts"].get("pending")
    listed = segur("dmp", "list", patient.id)
    assert listed.exit_code == 0 and doc.id in listed.output
    again = segur("outbox", "run", "--until-idle", "--json")  # nothing twice
    assert json.loads(again.output)["counts"] == data["counts"]
