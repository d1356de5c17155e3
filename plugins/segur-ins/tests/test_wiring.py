"""The plugin in a runtime: card reading → INSi (sandbox) → host → patient identified."""

from __future__ import annotations

import pytest
from segur_ins.plugin import service
from segur_ins.sandbox.persons import CNDA_PERSONS

from hostspecs.reference import ReferenceHost, default_decision
from segur_core.model import (
    Answer,
    BirthDate,
    CardReading,
    Identity,
    IdentityStatus,
    IdentityTraits,
    Patient,
)

ADRUN, ECETINSI = CNDA_PERSONS[0], CNDA_PERSONS[3]


class Decisions:
    """A pharmacist that answers from a script and remembers the questions."""

    def __init__(self) -> None:
        self.questions = []
        self.answers: dict[str, str] = {}

    def __call__(self, question):
        self.questions.append(question)
        if question.kind in self.answers:
            return Answer(self.answers[question.kind], decided_by="test")
        return default_decision(question)

    def kinds(self) -> list[str]:
        return [q.kind for q in self.questions]


@pytest.fixture
def decisions():
    return Decisions()


@pytest.fixture
def runtime(make_segur_runtime, tmp_path, decisions):
    host = ReferenceHost(tmp_path / "host.sqlite", decide=decisions)
    yield make_segur_runtime(autoload=True, plugins=["ins"], host=host)
    host.close()


@pytest.fixture
def identified(runtime):
    """Record the on_patient_identified events."""
    events = []

    class Listener:
        from segur_core import hookimpl

        @hookimpl
        def on_patient_identified(self, patient, identity, source, runtime):
            events.append((patient, identity, source))

    runtime.pm.register(Listener(), name="test-listener")
    return events


def _reading(person, *, nir: bool = True, source: str = "vitale-card") -> CardReading:
    return CardReading(source=source, traits=person.traits(), nir=person.nir if nir else None)


def test_card_reading_is_qualified_and_saved(runtime, identified):
    runtime.card_read(_reading(ADRUN))
    assert len(identified) == 1
    patient, identity, source = identified[0]
    assert source == "insi"
    assert identity.status is IdentityStatus.RECOVERED
    assert identity.ins == ADRUN.ins()
    assert runtime.host.get_patient(patient.id).identity == identity
    assert runtime.shareable_ins(patient) is None  # RECUP: not shareable yet
    # the search ran before the patient existed: its message id links it to the change
    searches = [r for r in runtime.journal.records() if r.action == "insi.search"]
    records = runtime.journal.records(patient_id=patient.id)
    changes = [r for r in records if r.action == "ins.identity"]
    assert searches[-1].details["cr"] == "00"
    assert changes[-1].details["message_id"] == searches[-1].details["message_id"]
    assert changes[-1].details["to"] == "RECUP"


def test_document_check_makes_it_qual_and_shareable(runtime, identified):
    runtime.card_read(_reading(ECETINSI, nir=False, source="manual"))
    patient = identified[-1][0]
    patient = service(runtime).check_document(patient, "CN")
    assert patient.identity.status is IdentityStatus.QUALIFIED
    assert identified[-1][2] == "document-check"
    assert runtime.shareable_ins(patient) == ECETINSI.ins()
    assert len(patient.identity.ins_history) == 2


def test_appli_carte_vitale_reading_is_qualified_at_once(runtime, identified):
    runtime.card_read(_reading(ADRUN, source="apcv"))
    assert identified[-1][1].status is IdentityStatus.QUALIFIED


def test_existing_patient_is_found_not_duplicated(runtime, identified):
    runtime.card_read(_reading(ADRUN))
    runtime.card_read(_reading(ADRUN))  # the second reading verifies it
    assert len(runtime.host.find_patients(birth_name="ADRUN")) == 1
    records = runtime.journal.records()
    assert [r.details.get("result") for r in records if r.action == "ins.verify"] == ["confirmed"]


def test_unknown_person_stays_provisional(runtime, identified):
    traits = IdentityTraits("INCONNU", ("PERSONNE",), "M", BirthDate(1990, 1, 1))
    runtime.card_read(CardReading(source="manual", traits=traits))
    _, identity, source = identified[-1]
    assert (identity.status, identity.ins, source) == (IdentityStatus.PROVISIONAL, None, "card")


def test_several_identities_ask_the_pharmacist(runtime, decisions, identified):
    from segur_ins.sandbox.persons import Person

    sandbox = runtime.sandbox("insi")
    twins = [
        Person("JUMELLE", "ANNA", "F", "2001-05-05", "63220", "2010563220125", "84"),
        Person("JUMELLE", "ANNA", "F", "2001-05-05", "63220", "2010563220126", "53"),
    ]
    sandbox.add_persons(twins)
    runtime.card_read(_reading(twins[0], nir=False, source="manual"))
    assert "ins.several-identities" in decisions.kinds()
    assert identified[-1][1].status is IdentityStatus.PROVISIONAL


def test_several_local_patients_ask_which_one(runtime, decisions):
    for _ in range(2):
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=ADRUN.traits())))
    runtime.card_read(_reading(ADRUN, nir=False, source="manual"))
    assert "ins.choose-patient" in decisions.kinds()


def test_verification_mismatch_downgrades_and_asks(runtime, decisions, identified):
    runtime.card_read(_reading(ECETINSI, nir=False, source="manual"))
    patient = service(runtime).check_document(identified[-1][0], "PA")
    assert patient.identity.status is IdentityStatus.QUALIFIED
    # INSi's answer changes: the person's traits now differ from the stored ones
    sandbox = runtime.sandbox("insi")
    directory = sandbox.service.directory
    key = (ECETINSI.birth_name, ECETINSI.birth_date)
    import attrs

    directory._by_name_date[key] = [attrs.evolve(ECETINSI, first_names="PIERRE-ALAIN MURIEL")]
    decisions.answers["ins.verify-mismatch"] = "doubtful"
    from segur_ins import verify

    result = verify(service(runtime), patient)
    assert result.result == "mismatch" and result.differences == ("first_names",)
    assert result.decision == "doubtful"
    saved = runtime.host.get_patient(patient.id).identity
    assert saved.status is IdentityStatus.PROVISIONAL and saved.ins is None
    assert "douteuse" in {str(a) for a in saved.attributes}
    assert "ins.verify-mismatch" in decisions.kinds()
    assert runtime.shareable_ins(runtime.host.get_patient(patient.id)) is None


def test_insi_down_keeps_the_identity(runtime, identified):
    sandbox = runtime.sandbox("insi")
    sandbox.faults.down()
    try:
        runtime.card_read(_reading(ADRUN))
    finally:
        sandbox.faults.up()
    assert identified[-1][1].status is IdentityStatus.PROVISIONAL
    errors = [r for r in runtime.journal.records() if r.action == "insi.search"]
    assert errors[-1].outcome == "error"


def test_no_patient_data_in_journal_details(runtime, identified):
    runtime.card_read(_reading(ECETINSI))
    text = " ".join(str(r.details) for r in runtime.journal.records())
    for secret in (ECETINSI.matricule, ECETINSI.birth_name, "PIERRE", ECETINSI.birth_date):
        assert secret not in text


def test_decision_hooks(runtime):
    assert runtime.ins_oid() == "1.2.250.1.213.1.4.10"  # test mode


def test_hookimpls_match_the_specs():
    import segur_ins.plugin

    from segur_core.testing.plugin import assert_hookimpls_match_specs

    assert_hookimpls_match_specs(segur_ins.plugin)


def test_sandbox_hook_gives_the_insi_sandbox(runtime):
    sandbox = runtime.sandbox("insi")
    assert sandbox.name == "insi" and sandbox.url.startswith("https://127.0.0.1:")


def test_choosing_a_new_patient_asks_once(runtime, decisions):
    for _ in range(2):
        runtime.host.save_patient(Patient(id="", identity=Identity(traits=ADRUN.traits())))
    decisions.answers["ins.choose-patient"] = "new"
    runtime.card_read(_reading(ADRUN, nir=False, source="manual"))
    assert decisions.kinds().count("ins.choose-patient") == 1
    patients = runtime.host.find_patients(birth_name="ADRUN")
    assert len(patients) == 3
    assert sum(p.identity.status is IdentityStatus.RECOVERED for p in patients) == 1


def test_appli_carte_vitale_on_a_known_recovered_patient(runtime, identified):
    runtime.card_read(_reading(ADRUN))
    assert identified[-1][1].status is IdentityStatus.RECOVERED
    runtime.card_read(_reading(ADRUN, source="apcv"))
    assert identified[-1][1].status is IdentityStatus.QUALIFIED


def test_package_exports_resolve():
    import segur_ins

    for name in segur_ins.__all__:
        assert getattr(segur_ins, name) is not None
    with pytest.raises(AttributeError):
        segur_ins.not_a_name  # noqa: B018
