"""Nothing lost or imported twice when fetching is killed (SIGKILL) between storing a
document and flagging its message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from segur_mssante.sandbox.tokens import SandboxTokens
from segur_mssante.service import IMPORTED_FLAG, service_for
from segur_mssante.testing import sandbox_table

from segur_core.model import INS, Identity, IdentityStatus, IdentityTraits, Patient
from segur_core.runtime import create_runtime

WORKER = Path(__file__).with_name("_fetch_worker.py")


def _config(sandbox, address):
    return {
        "segur": {"mode": "test", "plugins": ["ins", "documents", "mss"]},
        "documents": {"schematron": False},  # XSD only: schematrons cost ~15 s to load
        "mss": sandbox_table(sandbox, address),
    }


def test_sigkill_between_storing_and_flagging(tmp_path, mail_sandbox, vaccination_cda):
    pharmacy = "officine.crash@pharmacie.mssante.test"
    sender = create_runtime(
        _config(mail_sandbox, "dr.crash@medecin.mssante.test"),
        data_dir=tmp_path / "doctor",
        autoload=True,
    )
    try:
        service_for(sender).tokens = SandboxTokens(mail_sandbox.tokens)
        queued = service_for(sender).send_document(vaccination_cda, to=[pharmacy])
        assert sender.outbox.run_until_idle(timeout=30)
    finally:
        sender.close()

    data_dir = tmp_path / "pharmacy"
    config = _config(mail_sandbox, pharmacy)
    runtime = create_runtime(config, data_dir=data_dir, autoload=True)
    traits = IdentityTraits(birth_name="X", first_names="Y", sex="F", birth_date="1979-03-05")
    ins = INS("279035121518989", "1.2.250.1.213.1.4.10")
    identity = Identity(traits=traits, status=IdentityStatus.QUALIFIED, ins=ins)
    patient = runtime.host.save_patient(Patient(id="", identity=identity))
    runtime.close()

    done = subprocess.run(
        [sys.executable, str(WORKER), str(data_dir), json.dumps(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == -9, done.stdout + done.stderr

    runtime = create_runtime(config, data_dir=data_dir, autoload=True)
    try:
        # the killed fetch stored the document but never flagged the message
        assert len(runtime.host.list_documents(patient.id)) == 1
        outcomes = service_for(runtime).fetch()
        assert [(o.message_id, o.flag) for o in outcomes] == [(queued.message_id, IMPORTED_FLAG)]
        (report,) = outcomes[0].reports
        assert [d.outcome for d in report.documents] == ["already-imported"]
        assert len(runtime.host.list_documents(patient.id)) == 1
        received = [r for r in runtime.journal.records() if r.action == "mss.document-received"]
        assert len(received) == 1  # stored and announced once across both processes
        assert service_for(runtime).fetch() == []
    finally:
        runtime.close()


def test_sigkill_between_keeping_a_photo_and_flagging(tmp_path, mail_sandbox):
    """A message with no archive (a patient's photo) is kept through the host once, even
    when the fetch is killed after keeping it and before flagging it."""
    from segur_mssante.testing import send_as_patient

    pharmacy = "officine.crash-photo@pharmacie.mssante.test"
    send_as_patient(mail_sandbox, "279035121518989", pharmacy, "<photo-crash@patient.test>")
    data_dir = tmp_path / "pharmacy"
    config = _config(mail_sandbox, pharmacy)
    done = subprocess.run(
        [sys.executable, str(WORKER), str(data_dir), json.dumps(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == -9, done.stdout + done.stderr

    runtime = create_runtime(config, data_dir=data_dir, autoload=True)
    try:
        kept = [r for r in runtime.journal.records() if r.action == "mss.message-kept"]
        assert len(kept) == 1  # the killed fetch kept it but never flagged the message
        key = kept[0].details["message"]
        assert runtime.host.get_message(key) is not None
        (outcome,) = service_for(runtime).fetch()
        assert (outcome.flag, outcome.reason, outcome.kept) == (
            IMPORTED_FLAG,
            "already kept (no archive)",
            key,
        )
        kept = [r for r in runtime.journal.records() if r.action == "mss.message-kept"]
        assert len(kept) == 1  # kept once across both processes
        assert service_for(runtime).fetch() == []
    finally:
        runtime.close()
