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
    # write-ahead: the change was journaled before the save, then the refusal
    refused = [r for r in runtime.journal.records() if r.outcome == "error"]
    assert [(r.action, r.details["error"]) for r in refused] == [
        ("ins.identity", "ConformanceError")
    ]
    changes = [r for r in runtime.journal.records(patient_id=refused[0].patient_id)]
    assert [(r.action, r.outcome) for r in changes] == [
        ("insi.search", "ok"), ("ins.identity", "ok"), ("ins.identity", "error")
    ]  # fmt: skip
    assert runtime.host.get_patient(refused[0].patient_id).identity.status == "PROV"
    host.close()


class JournalFirstHost(ReferenceHost):
    """Notes, at each save of a retrieved identity, what the journal already holds."""

    def __init__(self, path, journal_of) -> None:
        super().__init__(path)
        self.journal_of = journal_of
        self.seen: list[list[str]] = []

    @hostimpl
    def host_save_patient(self, patient: Patient) -> Patient:
        if patient.id and patient.identity.ins is not None:
            records = self.journal_of().records(patient_id=patient.id)
            self.seen.append([r.action for r in records])
        return super().host_save_patient(patient)


@pytest.mark.parametrize("batch", [False, True], ids=["qualify", "qualify-all"])
def test_the_call_and_the_change_are_journaled_before_the_host_saves(
    make_segur_runtime, tmp_path, batch
):
    runtime = None
    host = JournalFirstHost(tmp_path / "host.sqlite", lambda: runtime.journal)
    runtime = make_segur_runtime(autoload=True, plugins=["ins"], host=host)
    patients = [
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=p.traits())))
        for p in CNDA_PERSONS[:3]
    ]
    if batch:
        assert qualify_all(service(runtime), concurrency=2).counts == {"qualified": 3}
    else:
        for patient in patients:
            assert service(runtime).qualify(patient).result == "qualified"
    assert host.seen == [["insi.search", "ins.identity"]] * 3
    host.close()


def test_an_unexpected_failure_of_one_lookup_does_not_stop_the_batch(
    make_segur_runtime, monkeypatch
):
    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    for person in CNDA_PERSONS[:3]:
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=person.traits())))
    ins = service(runtime)
    lookup = ins.lookup

    def sometimes_broken(*, traits=None, reading=None):
        if traits == CNDA_PERSONS[1].traits():
            raise ValueError("a bug in a lookup")
        return lookup(traits=traits, reading=reading)

    monkeypatch.setattr(ins, "lookup", sometimes_broken)
    summary = qualify_all(ins, concurrency=2)
    assert summary.counts == {"qualified": 2, "error": 1}
    assert summary.errors == {"ValueError": 1}
    failed = [r for r in runtime.journal.records() if r.outcome == "error"]
    assert [(r.action, r.details) for r in failed] == [("ins.qualify", {"error": "ValueError"})]


def test_a_search_that_took_several_requests_says_how_many(make_segur_runtime):
    from segur_core.model import BirthDate, IdentityTraits

    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    requests = runtime.sandbox("insi").service
    # FLORIANTE is not one of his first names: CR 01, then PIERRE-ALAIN alone finds him
    traits = IdentityTraits("ECETINSI", ("Florianté", "Pierre-Alain"), "M", BirthDate(2009, 7, 14))
    patients = [
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=t)))
        for t in (traits, ADRUN.traits())
    ]
    before = requests.requests
    for patient in patients:
        assert service(runtime).qualify(patient).result == "qualified"
    searches = [r.details for r in runtime.journal.records() if r.action == "insi.search"]
    assert [d.get("requests") for d in searches] == [2, None]  # one request: not said
    assert requests.requests - before == 3


def test_a_card_search_retried_by_traits_counts_both_requests(make_segur_runtime):
    from segur_ins.nir import compute_key

    runtime = make_segur_runtime(autoload=True, plugins=["ins"])
    requests = runtime.sandbox("insi").service
    unknown = "1550199123456"  # a well-formed NIR that INSi does not know: CR 01
    reading = CardReading(
        source="vitale-card", traits=ADRUN.traits(), nir=unknown + compute_key(unknown)
    )
    before = requests.requests
    runtime.card_read(reading)
    (search,) = [r.details for r in runtime.journal.records() if r.action == "insi.search"]
    assert search["operation"] == "rechercherInsAvecTraitsIdentite" and search["cr"] == "00"
    assert search["requests"] == 2 == requests.requests - before
