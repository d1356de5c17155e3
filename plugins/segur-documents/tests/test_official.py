"""The official checks: the kit's XSD and schematrons (compiled once per session)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree
from segur_documents import Entretien, build_entretien, build_vaccination
from segur_documents.checks import Kit, Validator, parse_svrl
from segur_documents.checks.schematron import (
    PROFILE_SCHEMATRONS,
    VAC_NOTE_SCHEMATRON,
    VAC_SCHEMATRON,
)
from segur_documents.testing import contents, contexts

from .test_builders import VACCINE, build_any, vaccination  # noqa: F401

pytestmark = pytest.mark.slow


def messages(report) -> str:
    return "\n".join(f"{i.source}: {i.message}" for i in report.errors)


@pytest.mark.parametrize(
    ("name", "volet"),
    [
        ("VAC-NOTE_2023.01.xml", VAC_NOTE_SCHEMATRON),
        ("VAC_2023.01.xml", VAC_SCHEMATRON),
        ("DOC_NON_STRUCTURE_CDA-R2-N1.xml", None),
        ("01_Modèles_contenus_CDA.xml", None),
    ],
)
def test_kit_examples_pass(official_validator, kit_path, name, volet):
    report = official_validator.validate((kit_path / "ExemplesCDA" / name).read_bytes())
    assert report.valid, messages(report)
    assert not report.skipped
    expected = {f"schematron:{s}" for s in PROFILE_SCHEMATRONS}
    if volet:
        expected.add(f"schematron:{volet}")
    assert set(report.checks) == {"xml", "structure", "xsd"} | expected


def test_built_documents_pass(official_validator, context):
    for result in (
        build_vaccination(vaccination(), context),
        build_entretien(Entretien(dt.date(2024, 5, 6), "AOD"), context),
    ):
        report = official_validator.validate(result.xml)
        assert report.valid, messages(report)
        assert report.issues == ()  # not even a warning


@settings(
    max_examples=4,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ctx=contexts(), content=contents())
def test_hypothesis_documents_pass_schematrons(official_validator, ctx, content):
    report = official_validator.validate(build_any(content, ctx).xml)
    assert report.valid, messages(report)


def _break(xml: bytes, old: bytes, new: bytes) -> bytes:
    assert old in xml
    return xml.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "source", "expected"),
    [
        (
            b"<lotNumberText>4456672</lotNumberText>",
            b"",
            VAC_NOTE_SCHEMATRON,
            "le numéro de lot du vaccin est obligatoire",
        ),
        (
            b'code="87273-9" displayName="Note de vaccination"',
            b'code="99999-9" displayName="Note de vaccination"',
            "ASIP-STRUCT-MIN-StrucMin.sch",
            "JDV_J07_XdsTypeCode_CISIS",
        ),
        (b"<county>51215</county>", b"", "ASIP-STRUCT-MIN-StrucMin.sch", "les traits de l'INS"),
        (
            b'<signatureCode code="S"/>',
            b'<signatureCode code="X"/>',
            "ASIP-STRUCT-MIN-StrucMin.sch",
            "legalAuthenticator",
        ),
        (
            b'<effectiveTime value="20241002"/>',
            b'<effectiveTime value="202410"/>',
            VAC_NOTE_SCHEMATRON,
            "date précise AAAAMMJJ",
        ),
        (
            b'codeSystem="2.16.840.1.113883.6.73" codeSystemName="ATC"',
            b'codeSystem="2.16.840.1.113883.6.74" codeSystemName="ATC"',
            VAC_NOTE_SCHEMATRON,
            "le code ATC du vaccin est obligatoire",
        ),
    ],
)
def test_broken_documents_fail_with_the_expected_message(
    official_validator, context, old, new, source, expected
):
    xml = _break(build_vaccination(vaccination(), context).xml, old, new)
    report = official_validator.validate(xml)
    assert not report.valid
    found = [i for i in report.errors if i.source.endswith(source)]
    assert any(expected in i.message for i in found), messages(report)
    assert all(i.location.startswith("/") for i in found)


def test_n1_with_a_volet_template_fails(official_validator, context):
    xml = build_entretien(Entretien(dt.date(2024, 5, 6), "AOD"), context).xml
    broken = _break(
        xml,
        b'<templateId root="1.3.6.1.4.1.19376.1.2.20"/>',
        b'<templateId root="1.3.6.1.4.1.19376.1.2.20"/>'
        b'<templateId root="1.2.250.1.213.1.1.1.46" extension="2023.01"/>',
    )
    report = official_validator.validate(broken)
    assert not report.valid
    assert any(i.rule == "template.n1" for i in report.errors)
    assert any(i.source == VAC_NOTE_SCHEMATRON for i in report.errors), messages(report)


def test_xsd_error_is_reported(xsd_validator, context):
    xml = _break(build_vaccination(vaccination(), context).xml, b"<title>", b"<titel>")
    xml = xml.replace(b"</title>", b"</titel>", 1)
    report = xsd_validator.validate(xml)
    xsd = [i for i in report.errors if i.source == "xsd"]
    assert any("titel" in i.message and i.location == "/ClinicalDocument/titel[1]" for i in xsd)


def test_working_copy_fixes(official_validator, kit_path):
    kit: Kit = official_validator.kit
    voc = kit.work / (
        "schematrons/profils/structurationMinimale/include/voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml"
    )
    root = etree.parse(str(voc)).getroot()
    concepts = root.findall("valueSet/conceptList/concept")  # no namespace at all
    assert len(concepts) == 114
    assert {"78601-2", "56445-0", "87273-9"} <= {c.get("code") for c in concepts}
    assert (kit.work / "schematrons/include/entrees/E_directiveAnticipee_int.sch").is_file()
    # the reference kit itself is untouched
    assert not (kit_path / voc.relative_to(kit.work)).exists()
    assert not (kit_path / "schematrons/include/entrees/E_directiveAnticipee_int.sch").exists()


def test_no_kit_runs_structure_and_says_so(context, tmp_path):
    validator = Validator(None, use_default_kit=False)
    report = validator.validate(build_vaccination(vaccination(), context).xml)
    assert report.valid
    assert report.checks == ("xml", "structure")
    assert any("schématrons officiels non exécutés" in s for s in report.skipped)
    broken = build_vaccination(vaccination(), context).xml.replace(
        b"<lotNumberText>4456672</lotNumberText>", b""
    )
    assert not validator.validate(broken).valid


def test_garbage_is_an_issue_not_a_crash(xsd_validator):
    report = xsd_validator.validate(b"<not-xml")
    assert not report.valid
    assert report.errors[0].source == "xml"
    report = xsd_validator.validate(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    assert not report.valid


def test_parse_svrl():
    svrl = b"""<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
      <svrl:failed-assert test="cda:x" role="error" location="/ClinicalDocument/x">
        <svrl:text>  x is
          required </svrl:text></svrl:failed-assert>
      <svrl:successful-report test="cda:y" role="warning" location="/ClinicalDocument/y">
        <svrl:text>y is odd</svrl:text></svrl:successful-report>
      <svrl:fired-rule context="cda:ClinicalDocument"/>
    </svrl:schematron-output>"""
    issues = parse_svrl(svrl, source="a.sch")
    assert [(i.message, i.severity, i.location, i.rule, i.source) for i in issues] == [
        ("x is required", "error", "/ClinicalDocument/x", "cda:x", "a.sch"),
        ("y is odd", "warning", "/ClinicalDocument/y", "cda:y", "a.sch"),
    ]
