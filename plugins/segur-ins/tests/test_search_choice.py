"""Which INSi operation a reading gets, and a batch that outlives one patient's failure."""

from __future__ import annotations

import pytest
from segur_ins.batch import qualify_all
from segur_ins.plugin import service
from segur_ins.sandbox.persons import CNDA_PERSONS

from hostspecs.hookspecs import hostimpl
from hostspecs.reference import ReferenceHost
from segur_core.errors import ConformanceError
from segur_core.model import CardReading, Identity, Patient

ADRUN = CNDA_PERSONS[0]
REFUSED = CNDA_PERSONS[1].traits()


@pytest.mark.parametrize(
    ("source", "operation"),
    [
        ("vitale-card", "rechercherInsAvecCarteVitale"),
        ("apcv", "rechercherInsAvecCarteVitale"),
        ("manual", "rechercherInsAvecTraitsIdentite"),  # a typed NIR is not card data
    ],
)
def test_the_vitale_operation_is_only_for_card_data(make_segur_runtime, source, operation):
    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    runtime.card_read(CardReading(source=source, traits=ADRUN.traits(), nir=ADRUN.nir))
    searches = [r for r in runtime.journal.records() if r.action == "insi.search"]
    assert [r.details["operation"] for r in searches] == [operation]
    assert searches[0].details["cr"] == "00"


class FailingSaveHost(ReferenceHost):
    """Refuses to save one patient, as a host database may (a lock, a constraint)."""

    @hostimpl
    def host_save_patient(self, patient: Patient) -> Patient:
        if patient.id and patient.identity.traits == REFUSED:
            raise ConformanceError("the host refused this save")
        return super().host_save_patient(patient)


def test_one_patients_failure_does_not_stop_the_batch(make_segur_runtime, tmp_path):
    host = FailingSaveHost(tmp_path / "host.sqlite")
    runtime = make_segur_runtime(autoload=True, plugins=["ins"], host=host)
    for person in CNDA_PERSONS[:4]:
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=person.traits())))
    summary = qualify_all(service(runtime), concurrency=2)
    assert summary.completed
    assert summary.counts == {"qualified": 3, "error": 1}
    assert summary.errors == {"ConformanceError": 1}
    failed = [r for r in runtime.journal.records() if r.action == "ins.qualify"]
    assert [(r.outcome, r.details) for r in failed] == [("error", {"error": "ConformanceError"})]
    host.close()
