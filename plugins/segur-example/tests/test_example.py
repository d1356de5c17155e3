"""segur-example: counting, journaling, config, CLI command, demo step."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from segur_example import EVENTS, ExampleConfig, plugin

from segur_core.errors import ConfigError
from segur_core.model import (
    BirthDate,
    CardReading,
    Delivery,
    Identity,
    IdentityStatus,
    IdentityTraits,
    Patient,
)
from segur_core.plugin import DemoContext, DoctorResult
from segur_core.testing.plugin import assert_hookimpls_match_specs

TRAITS = IdentityTraits(
    birth_name="DUPONT", first_names=("LUCIE",), sex="F", birth_date=BirthDate(1985, 3, 2)
)


@pytest.fixture
def segur_plugins():
    return [plugin]


def test_hookimpls_match_specs():
    assert_hookimpls_match_specs(plugin)


def test_counts_and_journals_events(segur_runtime):
    segur_runtime.card_read(CardReading(source="vitale-card", traits=TRAITS))
    patient = segur_runtime.host.save_patient(Patient(id="", identity=Identity(traits=TRAITS)))
    segur_runtime.patient_identified(patient, patient.identity, "manual")
    segur_runtime.card_read(CardReading(source="manual", traits=TRAITS))
    assert plugin.counter(segur_runtime).snapshot() == {"card_read": 2, "patient_identified": 1}
    records = [r for r in segur_runtime.journal.records() if r.action == "example.event"]
    assert [r.details["event"] for r in records] == ["card_read", "patient_identified", "card_read"]
    assert records[1].patient_id == patient.id
    # no identity traits in the audit details
    assert "DUPONT" not in json.dumps([r.details for r in records])
    assert records[1].details["status"] == str(IdentityStatus.PROVISIONAL)


@pytest.mark.segur(config={"example": {"events": ["delivery_settled"], "journal": False}})
def test_config_limits_events_and_journaling(segur_runtime):
    assert segur_runtime.plugin_config("example") == ExampleConfig(
        events=("delivery_settled",), journal=False
    )
    segur_runtime.card_read(CardReading(source="manual", traits=TRAITS))
    segur_runtime.delivery_settled(Delivery(id=1, kind="dmp.iti41", key="k", state="delivered"))
    assert plugin.counter(segur_runtime).snapshot() == {"delivery_settled": 1}
    assert not [r for r in segur_runtime.journal.records() if r.action == "example.event"]


def test_unknown_event_in_config_names_the_key(make_segur_runtime):
    with pytest.raises(ConfigError) as caught:
        make_segur_runtime(extra_plugins=[plugin], config={"example": {"events": ["card_red"]}})
    assert caught.value.key == "example.events"
    assert "card_red" in str(caught.value)


def test_wrong_type_in_config_names_the_key(make_segur_runtime):
    with pytest.raises(ConfigError) as caught:
        make_segur_runtime(extra_plugins=[plugin], config={"example": {"journal": "yes"}})
    assert caught.value.key == "example.journal"
    assert "bool" in str(caught.value)


def test_counters_are_per_runtime(make_segur_runtime):
    first = make_segur_runtime(extra_plugins=[plugin])
    second = make_segur_runtime(extra_plugins=[plugin])
    first.card_read(CardReading(source="manual", traits=TRAITS))
    assert plugin.counter(first).total == 1
    assert plugin.counter(second).total == 0


def test_demo_step_reports_counts(segur_runtime, tmp_path):
    segur_runtime.card_read(CardReading(source="manual", traits=TRAITS))
    (step,) = [s for s in segur_runtime.demo_steps() if s.plugin == "example"]
    context = DemoContext(runtime=segur_runtime, out_dir=tmp_path)
    step.run(context)
    assert context.timeline[-1]["counts"] == {"card_read": 1}
    assert json.loads((tmp_path / "example" / "event-counts.json").read_text()) == {"card_read": 1}


def test_doctor_check(segur_runtime):
    ((plugin_name, check),) = segur_runtime.doctor_checks()
    assert plugin_name == "example"
    result, message = check.run()
    assert result is DoctorResult.OK
    assert str(len(EVENTS)) in message


def test_stats_command_reads_the_journal(tmp_path, monkeypatch):
    from segur_core.cli import cli
    from segur_core.runtime import create_runtime

    data = tmp_path / "data"
    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\ndata_dir = "{data}"\nplugins = ["example"]\n')
    monkeypatch.delenv("SEGUR_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("SEGUR_PLUGINS", raising=False)
    with create_runtime(str(config), data_dir=data) as runtime:
        runtime.card_read(CardReading(source="manual", traits=TRAITS))
        runtime.card_read(CardReading(source="manual", traits=TRAITS))
    result = CliRunner().invoke(cli, ["--config", str(config), "example", "stats", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"events": {"card_read": 2}, "total": 2}


def _validated_document(runtime):
    from segur_core.model import HealthDocument

    patient = runtime.host.save_patient(Patient(id="", identity=Identity(traits=TRAITS)))
    document = HealthDocument(
        id="1.2.250.1.999.1.1.7",
        patient_id=patient.id,
        type_code="87273-9",
        title="Note de vaccination",
        content=b"<ClinicalDocument/>",
        status="validated",
    )
    return runtime.host.store_document(document), patient


def test_receipts_go_through_the_outbox(segur_runtime):
    document, patient = _validated_document(segur_runtime)
    segur_runtime.document_validated(document, patient)
    segur_runtime.document_validated(document, patient)  # same version: still one receipt
    (item,) = segur_runtime.outbox.list()
    assert item.kind == "example.receipt"
    assert item.patient_id == patient.id
    assert segur_runtime.outbox.run_until_idle(timeout=10)
    receipts = list((segur_runtime.data_dir / "example-receipts").glob("*.json"))
    assert len(receipts) == 1
    assert json.loads(receipts[0].read_text()) == {
        "document": document.id,
        "type_code": "87273-9",
        "version": 1,
    }
    assert "DUPONT" not in receipts[0].read_text()
    # the settlement came back as an event the plugin counted
    assert plugin.counter(segur_runtime).snapshot()["delivery_settled"] == 1


@pytest.mark.segur(config={"example": {"receipts": False}})
def test_receipts_can_be_switched_off(segur_runtime):
    document, patient = _validated_document(segur_runtime)
    segur_runtime.document_validated(document, patient)
    assert segur_runtime.outbox.list() == []


def test_a_malformed_receipt_is_dead_not_retried(tmp_path):
    from segur_example.receipts import ReceiptSender

    from segur_core.errors import PermanentDeliveryError

    class Item:
        key = "example.receipt:x:v1"
        payload = b"not json"

    with pytest.raises(PermanentDeliveryError):
        ReceiptSender(tmp_path)(Item())
