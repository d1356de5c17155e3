"""The DP's part of the portability export, read from the journal: consultations (when,
depth, outcome, never the lines) and dispensations written into the DP, with the sandbox
DP answering."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from segur_dp.errors import ConsentRequired
from segur_dp.service import service_for
from segur_dp.testing import line_aged, make_patient

from segur_core.model import Dispensation
from segur_core.testing.export import section_records

NIR = "2840375123456"


@pytest.fixture
def runtime(make_segur_runtime):
    return make_segur_runtime(
        autoload=True, plugins=["dp"], config={"dp": {"depth": {"ordinary": 6}}}
    )


def _sections(runtime, patient_id, since=None) -> dict[str, list]:
    return section_records(runtime, patient_id, ("dpconsul", "dpdisp"), since)


def test_consultations_and_writings_are_exported_without_the_lines(runtime):
    patient = runtime.host.save_patient(make_patient(NIR))
    other = runtime.host.save_patient(make_patient("1840375123999"))
    service = service_for(runtime)
    with pytest.raises(ConsentRequired):
        service.history(patient.id)
    service.record_consent(patient.id, True)
    service.create(patient.id)
    runtime.sandbox("dp").store.add_line("seed-1", NIR, 1, line_aged(20))
    (shown,) = service.history(patient.id)
    dispensation = Dispensation(patient.id, dt.datetime.now(dt.UTC), "3400936403114", "DOLIPRANE")
    service.record(dispensation)
    service.record(dispensation)  # queued again: one delivery
    assert runtime.outbox.run_until_idle(timeout=30)

    got = _sections(runtime, patient.id)
    refused, created, consulted = got["dpconsul"]
    assert (refused["action"], refused["outcome"], refused["depth_months"]) == (
        "consent",
        "refused",
        None,
    )
    assert (created["action"], created["dossier"]) == ("create", "created")
    assert consulted["action"] == "history" and consulted["outcome"] == "ok"
    assert consulted["depth_months"] == {"ordinary": 6, "biological": 36, "vaccine": 252}
    assert (consulted["lines"], consulted["key"]) == (1, "nir")
    [written] = got["dpdisp"]
    assert written["delivery"] == "delivered" and written["settled_at"]
    text = json.dumps(got)
    for kept_out in (shown.product_code, shown.label, NIR):  # the DP's lines, the NIR
        assert kept_out not in text

    assert _sections(runtime, other.id) == {"dpconsul": [], "dpdisp": []}
    assert all(s.name not in ("dpconsul", "dpdisp") for s in runtime.export_sections(None))
    later = max(r.at for r in runtime.journal.records()) + dt.timedelta(microseconds=1)
    assert _sections(runtime, patient.id, since=later) == {"dpconsul": [], "dpdisp": []}
    service.history(patient.id, months=1)
    [again] = _sections(runtime, patient.id, since=later)["dpconsul"]
    assert again["depth_months"] == {"ordinary": 1, "biological": 1, "vaccine": 1}
