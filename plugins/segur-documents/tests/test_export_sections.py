"""The documents' part of the portability export: the patient's vaccinations, read from
their notes de vaccination (built here) and vaccination records (received)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_documents import build_vaccination, plugin
from segur_documents.demo import demo_contents
from segur_documents.export import VACCINATIONS
from segur_documents.testing import sample_context, sample_patient
from segur_documents.vaccinations import read_vaccinations

from segur_core.errors import InputError
from segur_core.model import DocumentStatus, HealthDocument
from segur_core.testing.export import section_records

from .conftest import KIT

EXAMPLES = KIT / "ExemplesCDA"


def _official(name: str) -> bytes:
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"the ANS CDA test kit is not at {KIT}")
    return path.read_bytes()


def _vaccinations(runtime, patient_id, since=None):
    return section_records(runtime, patient_id, ["vaccins"], since)["vaccins"]


@pytest.fixture
def runtime(make_segur_runtime):
    return make_segur_runtime(extra_plugins=[plugin])


def test_a_note_built_here_gives_its_vaccination(runtime):
    host = runtime.host
    patient = host.save_patient(attrs.evolve(sample_patient(True), id=""))
    nobody = host.save_patient(attrs.evolve(sample_patient(False), id=""))
    note = build_vaccination(demo_contents(dt.date(2024, 10, 2))["vaccination"], sample_context())
    created = dt.datetime(2024, 10, 2, 9, 45, tzinfo=dt.UTC)
    host.store_document(
        attrs.evolve(
            note.document,
            patient_id=patient.id,
            status=DocumentStatus.VALIDATED,
            created_at=created,
        )
    )
    [record] = _vaccinations(runtime, patient.id)
    assert record == {
        "document_id": note.document.id,
        "document_status": "validated",
        "document_created_at": created.isoformat(),
        "administered_on": "2024-10-02",
        "given": True,
        "vaccine_code": "68747507",
        "vaccine_system": "1.2.250.1.213.2.3.1",
        "vaccine_label": "VACCIN TETANIQUE PASTEUR, suspension injectable en seringue préremplie",
        "atc": "J07AM",
        "atc_label": "vaccins tétaniques",
        "cip13": "3400932857241",
        "lot": "4456672",
        "route": "20035000",
        "route_label": "Voie intramusculaire",
        "site": "16217701000119102",
        "site_label": "deltoïde gauche",
        "dose_rank": 3,
        "act": "BOOSTER",
    }
    assert _vaccinations(runtime, nobody.id) == []  # checked: none
    assert _vaccinations(runtime, patient.id, since=created + dt.timedelta(seconds=1)) == []
    assert len(_vaccinations(runtime, patient.id, since=created)) == 1
    assert all(s.name != "vaccins" for s in runtime.export_sections(None))


def test_a_received_vaccination_record_gives_each_entry_and_tells_not_given(runtime):
    content = _official("VAC_2023.01.xml").replace(b'negationInd="false"', b'negationInd="true"', 1)
    host = runtime.host
    patient = host.save_patient(attrs.evolve(sample_patient(True), id=""))
    host.store_document(
        HealthDocument(
            id="1.2.250.1.213.1.1.9^VAC-1",
            patient_id=patient.id,
            type_code="11369-6",
            title="Historique des vaccinations",
            content=content,
            media_type="text/xml",
            status=DocumentStatus.RECEIVED,
            created_at=dt.datetime(2024, 9, 1, tzinfo=dt.UTC),
        )
    )
    records = _vaccinations(runtime, patient.id)
    assert [(r["vaccine_code"], r["lot"], r["dose_rank"]) for r in records] == [
        ("61077869", "235421176", 1),
        ("68747507", "4456668", 1),
        ("68747507", "4456672", 2),
        ("61920725", "357904636", 1),
    ]
    assert [r["given"] for r in records] == [False, True, True, True]  # negative, not absent
    assert records[0]["administered_on"] is None  # the record gives no day: not filled in
    assert {r["document_status"] for r in records} == {"received"}


def test_the_official_note_de_vaccination_is_read():
    [entry] = read_vaccinations(_official("VAC-NOTE_2023.01.xml"))
    assert (entry.administered_on, entry.lot, entry.route, entry.act) == (
        "2009-09-28",
        "4456672",
        "20035000",
        "INITIMMUNIZ",
    )


def test_an_unreadable_note_is_left_out_without_stopping_the_export(runtime, caplog):
    host = runtime.host
    patient = host.save_patient(attrs.evolve(sample_patient(True), id=""))
    host.store_document(
        HealthDocument(
            id="1.2.3^broken",
            patient_id=patient.id,
            type_code="87273-9",
            title="Note de vaccination",
            content=b"<ClinicalDocument",
            media_type="text/xml",
        )
    )
    assert _vaccinations(runtime, patient.id) == []
    assert patient.identity.traits.birth_name not in caplog.text


def test_the_schema_tells_negative_from_not_filled_in():
    items = VACCINATIONS["items"]["properties"]
    assert items["given"]["type"] == "boolean"
    assert items["lot"]["type"] == ["string", "null"]
    assert VACCINATIONS["x-informational"] is True
    assert {"title", "x-title-fr", "description", "x-description-fr"} <= set(VACCINATIONS)


@given(st.binary(max_size=400))
def test_any_bytes_give_entries_or_a_typed_error(data):
    try:
        entries = read_vaccinations(data)
    except InputError:
        return
    assert isinstance(entries, list)


@given(lot=st.text(max_size=40), rank=st.text(max_size=5), when=st.text(max_size=14))
def test_any_field_values_are_read_or_left_null(lot, rank, when):
    from xml.sax.saxutils import escape, quoteattr

    xml = f"""<ClinicalDocument xmlns="urn:hl7-org:v3"><component><structuredBody><component>
<section><entry><substanceAdministration classCode="SBADM" moodCode="EVN">
<templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.12"/>
<effectiveTime value={quoteattr(_printable(when))}/>
<consumable><manufacturedProduct><manufacturedMaterial>
<lotNumberText>{escape(_printable(lot))}</lotNumberText></manufacturedMaterial>
</manufacturedProduct></consumable>
<entryRelationship><observation><code code="30973-2"/><value value={quoteattr(_printable(rank))}/>
</observation></entryRelationship></substanceAdministration></entry></section></component>
</structuredBody></component></ClinicalDocument>"""
    [entry] = read_vaccinations(xml.encode())
    assert entry.lot is None or entry.lot == " ".join(_printable(lot).split())
    assert entry.dose_rank is None or entry.dose_rank == int(_printable(rank).strip()) >= 1
    assert entry.administered_on is None or len(entry.administered_on) == 10


def _printable(text: str) -> str:
    return "".join(c for c in text if c.isprintable() and c not in "\ufffe\uffff" and c >= " ")
