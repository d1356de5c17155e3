"""The INS part of the portability export, read from the journal: identity history,
identity-document checks and INSi calls, with the INSi sandbox answering."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from segur_ins.plugin import service
from segur_ins.sandbox.persons import CNDA_PERSONS
from segur_ins.status import AttributeSet

from segur_core.errors import IdentityError
from segur_core.model import BirthDate, CardReading, Identity, IdentityTraits, Patient
from segur_core.testing.export import section_records

ADRUN, ECETINSI = CNDA_PERSONS[0], CNDA_PERSONS[3]


@pytest.fixture
def runtime(make_segur_runtime):
    return make_segur_runtime(autoload=True, plugins=["ins"])


def _reading(person, *, nir: bool = True, source: str = "vitale-card") -> CardReading:
    return CardReading(source=source, traits=person.traits(), nir=person.nir if nir else None)


def _sections(runtime, patient_id, since=None) -> dict[str, list]:
    return section_records(runtime, patient_id, ("identhis", "idcheck", "insi"), since)


def _patient(runtime, birth_name):
    [patient] = runtime.host.find_patients(birth_name=birth_name)
    return patient


def test_a_card_read_twice_then_checked_gives_its_history(runtime):
    runtime.card_read(_reading(ADRUN))  # INSi: RECUP
    runtime.card_read(_reading(ADRUN))  # known: verified with INSi
    patient = _patient(runtime, ADRUN.birth_name)
    service(runtime).check_document(patient, "CN")  # QUAL
    got = _sections(runtime, patient.id)

    first, checked = got["identhis"]
    assert (first["source"], first["reading"], first["event"]) == (
        "insi",
        "vitale-card",
        "insi-retrieved",
    )
    assert (first["from_status"], first["to_status"], first["ins_changed"]) == (
        "PROV",
        "RECUP",
        True,
    )
    assert first["insi_message"] and first["document"] is None
    assert first["attributes"] == [] and first["traits_changed"] == []  # checked: none
    assert (checked["source"], checked["event"], checked["document"]) == (
        "document-check",
        "document-checked",
        "CN",
    )
    assert checked["reading"] is None  # no reading caused it

    [check] = got["idcheck"]
    assert (check["document"], check["outcome"], check["from_status"], check["to_status"]) == (
        "CN",
        "checked",
        "RECUP",
        "QUAL",
    )
    search, verify = got["insi"]
    assert (search["action"], search["cr"], search["outcome"]) == ("search", "00", "ok")
    assert search["operation"] == "rechercherInsAvecTraitsIdentite"  # the verification's
    assert (verify["action"], verify["result"], verify["cr"]) == ("verify", "confirmed", None)

    text = json.dumps(got)
    for secret in (ADRUN.matricule, ADRUN.birth_name, ADRUN.nir):
        assert secret not in text


def test_appli_carte_vitale_and_a_typed_reading_say_so(runtime):
    runtime.card_read(_reading(ADRUN, source="apcv"))
    patient = _patient(runtime, ADRUN.birth_name)
    history = _sections(runtime, patient.id)["identhis"]
    assert [(h["reading"], h["to_status"]) for h in history] == [
        ("apcv", "RECUP"),
        ("apcv", "QUAL"),
    ]
    [check] = _sections(runtime, patient.id)["idcheck"]
    assert (check["document"], check["reading"]) == ("AV", "apcv")

    traits = IdentityTraits("INCONNU", ("PERSONNE",), "M", BirthDate(1990, 1, 1))
    runtime.card_read(CardReading(source="manual", traits=traits))
    unknown = _patient(runtime, "INCONNU")
    [created] = _sections(runtime, unknown.id)["identhis"]
    assert (created["source"], created["reading"], created["to_status"]) == (
        "card",
        "manual",
        "PROV",
    )
    assert created["event"] is None  # a creation, no event: not filled in


def test_a_refused_document_check_is_journaled_and_exported(runtime):
    runtime.card_read(_reading(ECETINSI, nir=False, source="manual"))
    patient = _patient(runtime, ECETINSI.birth_name)
    ins = service(runtime)
    patient, _ = ins.change(patient, AttributeSet(attribute="douteuse"), source="insi")
    with pytest.raises(IdentityError):
        ins.check_document(patient, "PA")
    [refused] = _sections(runtime, patient.id)["idcheck"]
    assert (refused["document"], refused["outcome"]) == ("PA", "refused")
    assert refused["from_status"] == refused["to_status"] == "PROV"
    assert "douteuse" in refused["reason"]


def test_a_patient_without_ins_history_has_empty_sections(runtime):
    patient = runtime.host.save_patient(
        Patient("", Identity(IdentityTraits("DURAND", ("PAUL",), "M", BirthDate(1950, 1, 1))))
    )
    assert _sections(runtime, patient.id) == {"identhis": [], "idcheck": [], "insi": []}
    assert all(s.name not in ("identhis", "idcheck", "insi") for s in runtime.export_sections(None))


def test_since_keeps_the_later_records(runtime):
    runtime.card_read(_reading(ADRUN))
    patient = _patient(runtime, ADRUN.birth_name)
    later = max(r.at for r in runtime.journal.records()) + dt.timedelta(microseconds=1)
    before = _sections(runtime, patient.id)
    assert len(before["identhis"]) == 1
    assert _sections(runtime, patient.id, since=later) == {
        "identhis": [],
        "idcheck": [],
        "insi": [],
    }
    service(runtime).check_document(patient, "PA")
    after = _sections(runtime, patient.id, since=later)
    assert [c["document"] for c in after["idcheck"]] == ["PA"]
    assert len(after["identhis"]) == 1
