"""The DP service on a runtime: consent through the host, alerts put to the pharmacist
(host_decide) and journalled, a dispensation that survives an outage and is written once
(outbox), history depth from [dp.depth], every access journalled without a NIR."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from segur_dp.errors import AlertsPending, ConsentRequired, PatientKeyError
from segur_dp.service import ACK_QUESTION, RECORD_KIND, service_for
from segur_dp.testing import line_aged, make_patient

from segur_core.model import Answer, CardReading, Dispensation, IdentityTraits, Sex

NIR = "2840375123456"


def _runtime(make_segur_runtime, **config):
    return make_segur_runtime(
        autoload=True, plugins=["dp"], config={"dp": config} if config else None
    )


def _setup(runtime, nir: str = NIR):
    patient = runtime.host.save_patient(make_patient(nir))
    service = service_for(runtime)
    return patient, service


def _journal(runtime, prefix="dp."):
    return [r for r in runtime.journal.records() if r.action.startswith(prefix)]


def test_consent_is_checked_with_the_host_and_a_refusal_recorded(make_segur_runtime):
    runtime = _runtime(make_segur_runtime)
    patient, service = _setup(runtime)
    with pytest.raises(ConsentRequired) as caught:
        service.create(patient.id)
    assert not caught.value.refused
    service.record_consent(patient.id, False, by="pharmacist")
    assert service.create(patient.id).status == "refused"
    assert runtime.sandbox("dp").store.consent(NIR, 1) is False
    with pytest.raises(ConsentRequired) as caught:
        service.history(patient.id)
    assert caught.value.refused
    service.record_consent(patient.id, True, by="pharmacist")
    assert service.create(patient.id).status == "created"
    assert service.history(patient.id) == ()
    records = _journal(runtime)
    assert [r.action for r in records if r.action != "dp.alert-acknowledged"] == [
        "dp.consent-missing", "dp.consent", "dp.create", "dp.consent-missing", "dp.consent",
        "dp.create", "dp.history",
    ]  # fmt: skip
    dumped = json.dumps([[r.action, r.details, r.patient_id] for r in records])
    assert NIR not in dumped and patient.id in dumped


def test_alerts_block_until_the_pharmacist_acknowledges(make_segur_runtime, tmp_path):
    from hostspecs.reference.host import ReferenceHost

    answers: list[str] = []

    def decide(question):
        assert question.kind == ACK_QUESTION
        return Answer(answers.pop(0) if answers else "acknowledge", decided_by="10000000001")

    host = ReferenceHost(tmp_path / "host.sqlite", decide=decide)  # a pharmacist at the screen
    runtime = make_segur_runtime(autoload=True, plugins=["dp"], host=host)
    patient, service = _setup(runtime)
    service.record_consent(patient.id, True)
    service.create(patient.id)
    answers[:] = ["later", "acknowledge"]
    with pytest.raises(AlertsPending) as caught:
        service.history(patient.id)
    assert caught.value.count == 1
    assert service.history(patient.id) == ()  # the one left, now acknowledged
    assert service.alerts() == []
    acks = [r.details for r in _journal(runtime, "dp.alert-")]
    assert [d["kind"] for d in acks] == ["alert", "recall", "alert"]
    assert {d["decided_by"] for d in acks} == {"10000000001"}


def test_history_depth_from_config_and_months(make_segur_runtime):
    runtime = _runtime(make_segur_runtime, depth={"ordinary": 6})
    patient, service = _setup(runtime)
    service.record_consent(patient.id, True)
    service.create(patient.id)
    store = runtime.sandbox("dp").store
    for n, days in enumerate((5, 100, 300)):
        store.add_line(f"seed-{n}", NIR, 1, line_aged(days))
    ages = [
        (dt.datetime.now(dt.UTC) - line.dispensed_at).days for line in service.history(patient.id)
    ]
    assert ages == [5, 100]  # 300 days is beyond the 6 months configured
    assert len(service.history(patient.id, months=1)) == 1
    depth = _journal(runtime, "dp.history")[-1].details["depth_months"]
    assert depth == {"ordinary": 1, "biological": 1, "vaccine": 1}


def test_the_key_from_a_card_reading_or_the_ins(make_segur_runtime):
    runtime = _runtime(make_segur_runtime)
    patient, service = _setup(runtime)
    assert service.patient(patient.id).nir == NIR
    traits = IdentityTraits("X", ("Y",), Sex.FEMALE, patient.identity.traits.birth_date)
    reading = CardReading("vitale-card", traits, insured_nir="1840375123999", beneficiary_rank=2)
    key = service.patient(patient.id, reading)
    assert (key.nir, key.rank) == ("1840375123999", 2) and "1840375123999" not in repr(key)
    with pytest.raises(PatientKeyError):
        service.patient("nobody")


def test_a_dispensation_survives_an_outage_and_is_written_once(make_segur_runtime):
    runtime = _runtime(make_segur_runtime)
    patient, service = _setup(runtime)
    service.record_consent(patient.id, True)
    service.create(patient.id)
    sandbox = runtime.sandbox("dp")
    dispensation = Dispensation(
        patient.id, dt.datetime.now(dt.UTC), "3400936403114", "DOLIPRANE", 2
    )
    sandbox.faults.down(60)
    delivery = service.record(dispensation)
    assert service.record(dispensation).id == delivery.id  # queued once
    runtime.outbox.deliver_due()
    assert runtime.outbox.get(delivery.id).state == "pending"
    assert runtime.outbox.get(delivery.id).attempts >= 1
    sandbox.faults.up()
    assert runtime.outbox.retry(delivery.id)
    assert runtime.outbox.run_until_idle(timeout=30)
    assert runtime.outbox.get(delivery.id).state == "delivered"
    assert sandbox.store.count_lines(delivery.key) == 1
    service.record(dispensation)  # again: already delivered, nothing sent
    runtime.outbox.run_until_idle(timeout=10)
    assert sandbox.store.count_lines() >= 1 and sandbox.store.count_lines(delivery.key) == 1
    (line,) = service.history(patient.id)
    assert (line.product_code, line.quantity) == ("3400936403114", 2)
    assert RECORD_KIND in runtime.outbox_senders()


def test_host_dispensations_are_queued_once(make_segur_runtime):
    runtime = _runtime(make_segur_runtime)
    patient, service = _setup(runtime)
    service.record_consent(patient.id, True)
    service.create(patient.id)
    when = dt.datetime.now(dt.UTC)
    runtime.host.record_dispensation(Dispensation(patient.id, when, "3400930000001", "A"))
    runtime.host.record_dispensation(Dispensation(patient.id, when, "3400930000002", "B"))
    first = service.record_from_host(patient.id)
    again = service.record_from_host(patient.id)
    assert [d.id for d in first] == [d.id for d in again] and len(first) == 2
    assert runtime.outbox.run_until_idle(timeout=30)
    assert len(service.history(patient.id)) == 2
