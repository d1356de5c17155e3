"""A document validated again while its DMP feed is dead: the journal says it was not
queued (and how to resend it), nothing is sent, and the pharmacist's retry
(``segur outbox retry``, or ``DMPService.requeue`` behind a host's button) feeds it once."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from segur_core.cli import cli

segur_dmp = pytest.importorskip("segur_dmp")

from segur_dmp.sandbox.app import ACTION  # noqa: E402
from segur_dmp.service import service_for  # noqa: E402
from segur_dmp.testing import fresh_copy, kit_example, kit_patient, vaccination_note  # noqa: E402

SHORT = {"horizon_hours": 0.3 / 3600, "base_delay": 0.05, "max_delay": 0.1}


def test_revalidating_a_dead_feed_is_journaled_truthfully_and_can_be_requeued(
    tmp_path: Path, make_segur_runtime
) -> None:
    runtime = make_segur_runtime(
        autoload=True, plugins=["ins", "dmp"], config={"segur": {"outbox": SHORT}}
    )
    sandbox = runtime.sandbox("dmp")
    sandbox.faults.down()  # a maintenance window longer than the (short) horizon
    patient = runtime.host.save_patient(kit_patient(f"P{uuid.uuid4().hex[:8]}"))
    docs = [
        runtime.host.store_document(
            vaccination_note(patient.id, *fresh_copy(kit_example("VAC-NOTE_2023.01.xml")))
        )
        for _ in range(2)
    ]
    for doc in docs:
        runtime.document_validated(doc, patient)
    assert runtime.outbox.run_until_idle(timeout=20)
    dead = [runtime.outbox.find(doc.id) for doc in docs]
    assert [d.state for d in dead] == ["dead", "dead"]
    sandbox.faults.up()
    calls = sandbox.app.calls.get(ACTION.ITI41, 0)

    runtime.document_validated(docs[0], patient)  # the pharmacist validates it again
    assert runtime.outbox.find(docs[0].id).state == "dead"  # not silently requeued...
    assert runtime.outbox.deliver_due() == 0
    assert sandbox.app.calls.get(ACTION.ITI41, 0) == calls  # ...and nothing was sent
    (record,) = [r for r in runtime.journal.records() if r.action == "dmp.feed-not-queued"]
    assert record.outcome == "dead" and record.details["state"] == "dead"
    assert record.details["hint"] == f"segur outbox retry {dead[0].id}"
    queued = [r for r in runtime.journal.records() if r.action == "dmp.feed-queued"]
    assert len(queued) == 2  # the two first validations only

    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\ndata_dir = "{runtime.data_dir}"\nmode = "test"\nplugins = []\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "outbox", "retry", str(dead[0].id)])
    assert result.exit_code == 0 and "pending again" in result.output
    service_for(runtime).requeue(docs[1].id)  # a host's "resend" button
    assert service_for(runtime).status.get(docs[1].id).state == "queued"
    assert runtime.outbox.run_until_idle(timeout=30)
    for doc in docs:
        assert runtime.outbox.find(doc.id).state == "delivered"
        assert sandbox.registry.find_by_unique_id(doc.id).content == doc.content
        assert service_for(runtime).status.get(doc.id).state == "in-dmp"
    assert sandbox.app.calls[ACTION.ITI41] == calls + 2  # once each
