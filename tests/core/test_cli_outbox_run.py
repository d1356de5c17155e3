"""``segur outbox run``: the command-line worker (bounded with ``--for``, stopped cleanly
by Ctrl-C with the outbox consistent, refusing unbounded numbers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from segur_core.cli import cli
from segur_core.model import BirthDate, HealthDocument, Identity, IdentityTraits, Patient
from segur_core.runtime import create_runtime

TRAITS = IdentityTraits("MARTIN", ("ANNE",), "F", BirthDate(1970, 5, 5))


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "segur.toml"
    path.write_text(
        f'[segur]\nmode = "test"\nplugins = ["example"]\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    return path


def _queue_receipts(config: Path, count: int) -> None:
    with create_runtime(str(config)) as runtime:
        patient = runtime.host.save_patient(Patient(id="", identity=Identity(traits=TRAITS)))
        for n in range(count):
            document = runtime.host.store_document(
                HealthDocument(
                    id=f"1.2.250.1.999.1.1.{n + 1}", patient_id=patient.id, type_code="87273-9",
                    title="Note de vaccination", content=b"<ClinicalDocument/>",
                    status="validated",
                )
            )  # fmt: skip
            runtime.document_validated(document, patient)


def _counts(config: Path) -> dict[str, int]:
    with create_runtime(str(config)) as runtime:
        return {str(s): n for s, n in runtime.outbox.counts().items() if n}


def test_run_for_a_while_delivers_the_queue(tmp_path):
    config = _config(tmp_path)
    _queue_receipts(config, 3)
    assert _counts(config) == {"pending": 3}
    result = CliRunner().invoke(
        cli, ["--config", str(config), "outbox", "run", "--for", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["before"]["pending"] == 3 and data["counts"]["delivered"] == 3
    assert len(list((tmp_path / "data" / "example-receipts").iterdir())) == 3


def test_ctrl_c_stops_the_worker_and_leaves_the_outbox_consistent(tmp_path):
    config = _config(tmp_path)
    _queue_receipts(config, 2)
    env = {**os.environ, "SEGUR_CONFIG": str(config)}
    env.pop("SEGUR_HOST", None)
    # Ctrl-C as a terminal delivers it: a test run started in the background by a shell
    # without job control ignores SIGINT, its children inherit that, and Python then keeps
    # SIGINT ignored instead of raising KeyboardInterrupt
    start = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from segur_core.cli import main; main()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", start, "outbox", "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        assert "Ctrl-C to stop" in process.stderr.readline()
        deadline = time.monotonic() + 20
        while _counts(config).get("pending") and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "2 delivered" in out
    assert _counts(config) == {"delivered": 2}  # nothing in flight, nothing twice


def test_unbounded_numbers_are_refused(tmp_path):
    config = _config(tmp_path)
    for option in ("--for", "--timeout"):
        for value in ("nan", "inf", "-1"):
            result = CliRunner().invoke(
                cli, ["--config", str(config), "outbox", "run", option, value]
            )
            assert result.exit_code == 2 and "Traceback" not in result.output, result.output
