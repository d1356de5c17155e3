"""The builders write the CI-SIS header and bodies as the references say."""

from __future__ import annotations

import base64
import datetime as dt

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree
from segur_documents import (
    NO_INS_WARNING,
    BilanMedication,
    Entretien,
    MedicationLine,
    TextSection,
    Vaccination,
    Vaccine,
    build_bpm,
    build_entretien,
    build_vaccination,
)
from segur_documents.checks import structural_issues
from segur_documents.models import DocumentContext
from segur_documents.models import Vaccination as VaccinationModel
from segur_documents.testing import contents, contexts

from segur_core.errors import DocumentError
from segur_core.model import INS

NS = {"c": "urn:hl7-org:v3"}

VACCINE = Vaccine(
    "68747507", "VACCIN TETANIQUE PASTEUR", "J07AM", "vaccins tétaniques", "3400932857241"
)


def vaccination(**changes) -> Vaccination:
    base = Vaccination(
        VACCINE,
        "4456672",
        dt.date(2024, 10, 2),
        act="BOOSTER",
        dose_rank=2,
        route="20035000",
        site="16217701000119102",
        comment="RAS",
    )
    return attrs.evolve(base, **changes)


def xp(xml: bytes, path: str) -> list:
    return etree.fromstring(xml).xpath(path, namespaces=NS)


def build_any(content, ctx):
    if isinstance(content, VaccinationModel):
        return build_vaccination(content, ctx)
    if isinstance(content, Entretien):
        return build_entretien(content, ctx)
    return build_bpm(content, ctx)


def test_vaccination_header(context):
    xml = build_vaccination(vaccination(), context).xml
    assert xp(xml, "c:code/@code") == ["87273-9"]
    assert xp(xml, "c:templateId[@root='1.2.250.1.213.1.1.1.46']/@extension") == ["2023.01"]
    assert xp(xml, "c:recordTarget/c:patientRole/c:id[1]/@root") == ["1.2.250.1.213.1.4.10"]
    assert xp(xml, "c:recordTarget/c:patientRole/c:id[1]/@extension") == ["279035121518989"]
    assert xp(xml, "c:author/c:assignedAuthor/c:id/@extension") == ["810101010101"]
    assert xp(xml, "c:author/c:assignedAuthor/c:code/@code") == ["G15_21/A"]
    assert xp(xml, "c:custodian//c:representedCustodianOrganization/c:id/@extension") == [
        "1750123456"
    ]
    assert xp(xml, "c:legalAuthenticator/c:signatureCode/@code") == ["S"]
    assert len(xp(xml, "c:documentationOf/c:serviceEvent/c:performer")) == 1
    assert xp(xml, "c:componentOf//c:healthCareFacility/c:code/@code") == ["SA33"]
    assert xp(xml, "c:componentOf/c:encompassingEncounter/c:code/@code") == ["AMB"]
    assert xp(xml, "c:versionNumber/@value") == ["1"]
    assert not xp(xml, "c:relatedDocument")
    patient = "c:recordTarget/c:patientRole/c:patient"
    assert xp(xml, f"{patient}/c:name/c:given[not(@qualifier)]/text()") == [
        "DOMINIQUE MARIE-LOUISE"
    ]
    assert xp(xml, f"{patient}/c:name/c:given[@qualifier='BR']/text()") == ["DOMINIQUE"]
    assert xp(xml, f"{patient}/c:birthplace/c:place/c:addr/c:county/text()") == ["51215"]
    assert xp(xml, f"{patient}/c:birthTime/@value") == ["19790328"]


def test_vaccination_entry(context):
    xml = build_vaccination(vaccination(), context).xml
    entry = "//c:substanceAdministration"
    material = f"{entry}/c:consumable/c:manufacturedProduct/c:manufacturedMaterial"
    assert xp(xml, f"{material}/c:code/@code") == ["68747507"]
    assert xp(xml, f"{material}/c:code/c:translation/@code") == ["J07AM", "3400932857241"]
    assert xp(xml, f"{material}/c:lotNumberText/text()") == ["4456672"]
    assert xp(xml, f"{entry}/c:effectiveTime/@value") == ["20241002"]
    assert xp(xml, f"{entry}/c:code/@code") == ["BOOSTER"]
    assert xp(xml, f"{entry}/c:routeCode/@code") == ["20035000"]
    assert xp(xml, f"{entry}/c:approachSiteCode/@displayName") == ["deltoïde gauche"]
    assert xp(xml, f"{entry}//c:observation/c:value/@value") == ["2"]


def test_route_and_site_are_optional(context):
    xml = build_vaccination(vaccination(route=None, site=None, dose_rank=None), context).xml
    assert not xp(xml, "//c:routeCode | //c:approachSiteCode | //c:observation")
    assert structural_issues(etree.fromstring(xml)) == []


def test_no_ins_means_local_id_and_warning(structure, pharmacist, unqualified_patient):
    patient = unqualified_patient
    ctx = DocumentContext(structure, pharmacist, patient, None, local_id_root="1.2.3.4.5")
    result = build_entretien(Entretien(dt.date(2024, 1, 2), "AOD"), ctx)
    assert NO_INS_WARNING in result.warnings
    ids = xp(result.xml, "c:recordTarget/c:patientRole/c:id")
    assert [(i.get("root"), i.get("extension")) for i in ids] == [("1.2.3.4.5", "P0001")]


def test_ins_of_an_unqualified_identity_is_refused(structure, pharmacist, unqualified_patient):
    ins = INS("279035121518989", "1.2.250.1.213.1.4.10")
    with pytest.raises(DocumentError, match="qualified"):
        DocumentContext(structure, pharmacist, unqualified_patient, ins)


def test_replacement_version(context):
    ctx = attrs.evolve(context, set_id="2.25.42", version=2, replaces="2.25.41")
    result = build_bpm(BilanMedication(dt.date(2024, 1, 2)), ctx)
    assert xp(result.xml, "c:setId/@root") == ["2.25.42"]
    assert xp(result.xml, "c:versionNumber/@value") == ["2"]
    assert xp(result.xml, "c:relatedDocument[@typeCode='RPLC']/c:parentDocument/c:id/@root") == [
        "2.25.41"
    ]
    assert result.document.replaces == "2.25.41"
    assert result.document.version == 2


def test_n1_body_is_the_pdf(context):
    entretien = Entretien(
        dt.date(2024, 5, 6),
        "Anticoagulants oraux",
        (TextSection("Observance", "Bonne observance."),),
    )
    result = build_entretien(entretien, context)
    assert xp(result.xml, "c:code/@code") == ["78601-2"]
    assert sorted(xp(result.xml, "c:templateId/@root")) == sorted(
        ["2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1", "1.3.6.1.4.1.19376.1.2.20"]
    )
    text = xp(result.xml, "c:component/c:nonXMLBody/c:text")[0]
    assert text.get("mediaType") == "application/pdf"
    assert base64.b64decode(text.text) == result.pdf
    assert result.pdf.startswith(b"%PDF-")
    assert result.document.format_code == "urn:ihe:iti:xds-sd:pdf:2008"


def test_pdf_has_the_ins_datamatrix_only_when_qualified(
    context, structure, pharmacist, unqualified_patient
):
    pytest.importorskip("segur_ins.datamatrix")
    qualified = build_entretien(Entretien(dt.date(2024, 5, 6), "AOD"), context)
    assert b"/Subtype /Image" in qualified.pdf
    assert not [w for w in qualified.warnings if "datamatrix" in w]
    ctx = DocumentContext(structure, pharmacist, unqualified_patient, None)
    local = build_entretien(Entretien(dt.date(2024, 5, 6), "AOD"), ctx)
    assert b"/Subtype /Image" not in local.pdf


def test_pdf_without_datamatrix_module_says_so(context, monkeypatch):
    import sys

    segur_ins = pytest.importorskip("segur_ins")
    monkeypatch.setitem(sys.modules, "segur_ins.datamatrix", None)  # import fails
    monkeypatch.delattr(segur_ins, "datamatrix", raising=False)
    result = build_entretien(Entretien(dt.date(2024, 5, 6), "AOD"), context)
    assert b"/Subtype /Image" not in result.pdf
    assert any("datamatrix INS non inséré" in w for w in result.warnings)


def test_bpm_code(context):
    bilan = BilanMedication(dt.date(2024, 5, 6), (MedicationLine("ELIQUIS 5 mg"),))
    result = build_bpm(bilan, context)
    assert xp(result.xml, "c:code/@code") == ["56445-0"]
    assert result.document.type_code == "56445-0"


def test_unknown_specialty_is_refused(context):
    author = attrs.evolve(context.author, specialty="G15_99/Z")
    with pytest.raises(DocumentError, match="specialty"):
        build_vaccination(vaccination(), attrs.evolve(context, author=author))


@pytest.mark.parametrize(
    ("field", "value"),
    [("cis", "1234"), ("cis", "6874750A"), ("cip13", "123"), ("label", " ")],
)
def test_vaccine_fields_are_checked(field, value):
    with pytest.raises(ValueError, match=field):
        attrs.evolve(VACCINE, **{field: value})


@pytest.mark.parametrize(("field", "value"), [("route", "999"), ("site", "1"), ("act", "X")])
def test_vaccination_codes_are_checked(field, value):
    with pytest.raises(ValueError, match=field):
        vaccination(**{field: value})


def test_context_rules(structure, pharmacist, patient):
    with pytest.raises(ValueError, match="replaces"):
        DocumentContext(structure, pharmacist, patient, None, version=2)
    with pytest.raises(ValueError, match="timezone"):
        DocumentContext(
            structure, pharmacist, patient, None, effective_time=dt.datetime(2024, 1, 1)
        )
    with pytest.raises(ValueError, match="OID"):
        DocumentContext(structure, pharmacist, patient, None, local_id_root="abc")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ctx=contexts(), content=contents())
def test_every_built_document_passes_structure_and_xsd(xsd_validator, ctx, content):
    result = build_any(content, ctx)
    report = xsd_validator.validate(result.xml)
    assert "xsd" in report.checks
    assert report.valid, [i.as_dict() for i in report.errors]
    assert (NO_INS_WARNING in result.warnings) == (ctx.ins is None)


def test_host_problems_name_what_no_document_header_could_carry():
    from segur_documents.builders import host_problems

    from segur_core.model import Practitioner, Structure

    structure = Structure(finess="999990021", name="PHARMACIE", phone="04 78 00 00 00")
    author = Practitioner("10999900003", "DURAND", "PAUL", specialty="G15_21/DA")
    assert host_problems(structure, author) == []
    assert host_problems(Structure("999990021", "PHARMACIE"), Practitioner("1", "D", "P")) == []
    problems = host_problems(
        Structure("999990021", "PHARMACIE", phone="12"),
        Practitioner("10999900003", "DURAND", "PAUL", specialty="G15_99/X"),
    )
    assert problems[0].startswith("host_practitioner: specialty: unknown author specialty")
    assert problems[1] == "host_structure: structure.phone: not a valid telephone number"
    (sector,) = host_problems(Structure("999990021", "CABINET", activity_sector="SA07"), author)
    assert sector.startswith("host_structure: activity_sector 'SA07' is not a pharmacy's")
