"""The eDISP-MED 2024.01 document built from a dispensation: the kit's XSD for any
combination of decisions, and the official schematrons (volet eDISP-MED, structuration
minimale and the transversal profiles) for one document (slow: Saxon)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_eprescription.dispensation import Decision, LineDecision, decide
from segur_eprescription.edisp import EDISP_MED_TEMPLATE, build_edisp
from segur_eprescription.epmeddm import read_prescription
from segur_eprescription.ids import PRESCRIPTION_ID_OID
from segur_eprescription.models import CIP13_OID, Product, ProductKind, Quantity
from segur_eprescription.sandbox.prescriptions import SEEDS, prescription_cda

from segur_core.cdaheader import read_header
from segur_core.safexml import parse_xml

from .conftest import KIT, kit_example

AT = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
ID = "SBX000000000000001"
GENERIC = Product(
    ProductKind.CIP13, "PARACETAMOL MYLAN 500 mg, comprimé", code="3400933516390",
    system=CIP13_OID, substance="paracetamol", substance_code="N02BE01",
    substance_system="2.16.840.1.113883.6.73",
)  # fmt: skip
NS = {"h": "urn:hl7-org:v3"}


def _prescription():
    return read_prescription(prescription_cda(ID, SEEDS[ID], issued_at=AT))


def _context():
    from segur_documents.testing import sample_context

    return sample_context()


@pytest.fixture(scope="module")
def validator():
    if not (KIT / "schematrons").is_dir():
        pytest.skip("the CI-SIS kit is not in ../shared")
    from segur_documents.checks import Validator

    return Validator(KIT)


def _document(decisions):
    p = _prescription()
    report = decide(p, decisions, now=AT)
    data, _ = build_edisp(p, report, _context())
    return p, report, data


def test_the_header_names_the_volet_and_the_prescription() -> None:
    p, _, data = _document([LineDecision(1, Decision.SUBSTITUTED, product=GENERIC)])
    header = read_header(data)
    assert EDISP_MED_TEMPLATE in header.templates and header.code.code == "60593-1"
    root = parse_xml(data)
    assert root.xpath("h:documentationOf/h:serviceEvent/h:id/@extension", namespaces=NS) == [ID]
    assert root.xpath("h:documentationOf/h:serviceEvent/h:id/@root", namespaces=NS) == [
        PRESCRIPTION_ID_OID
    ]
    assert root.xpath("h:inFulfillmentOf/h:order/h:id/@extension", namespaces=NS) == [ID]
    supplies = root.xpath("//h:supply[@moodCode='EVN']", namespaces=NS)
    assert len(supplies) == len(p.lines)
    codes = supplies[0].xpath(".//h:act/h:code[@code='G']", namespaces=NS)
    assert len(codes) == 1  # the generic substitution


_decisions = st.lists(
    st.sampled_from(
        [
            LineDecision(1, Decision.SUBSTITUTED, product=GENERIC),
            LineDecision(1, Decision.PARTIAL, quantity=Quantity(1, "30009000"), reason="rupture"),
            LineDecision(2, Decision.ADAPTED, reason="posologie adaptée avec le prescripteur"),
            LineDecision(2, Decision.NOT_DELIVERED, reason="traitement déjà en cours"),
            LineDecision(3, Decision.NOT_DELIVERED, reason="refus du patient"),
        ]
    ),
    max_size=3,
    unique_by=lambda d: d.line,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_decisions)
def test_any_dispensation_passes_the_kit_xsd(validator, decisions) -> None:
    from segur_documents.checks import Validator

    xsd_only = Validator(KIT, schematron=False)
    _, report, data = _document(decisions)
    result = xsd_only.validate(data)
    assert result.valid, [str(i) for i in result.errors]
    delivered = [x for x in report.lines if x.decision is not Decision.NOT_DELIVERED]
    assert len(parse_xml(data).xpath("//h:supply[@moodCode='EVN']", namespaces=NS)) == len(
        delivered
    )


def test_the_official_schematrons_pass(validator) -> None:
    """One document with every kind of intervention, through the kit's XSD and every
    applicable schematron (the volet eDISP-MED's included)."""
    _, _, data = _document(
        [
            LineDecision(1, Decision.SUBSTITUTED, product=GENERIC),
            LineDecision(2, Decision.ADAPTED, reason="posologie adaptée avec le prescripteur"),
            LineDecision(3, Decision.PARTIAL, quantity=Quantity(0.5), reason="reste demain"),
        ]
    )
    result = validator.validate(data)
    assert "schematron:CI-SIS_eDISP-MED_2024.01.sch" in result.checks
    assert "xsd" in result.checks and not result.skipped, result.skipped
    assert result.valid, [str(i) for i in result.errors]


def test_the_kit_example_fails_only_its_documented_rule(validator) -> None:
    """The check is not a rubber stamp: the kit's own eDISP-MED example fails the one
    structuration-minimale rule the reference notes (family-name qualifier)."""
    result = validator.validate(kit_example("eDISP-MED_2024.01.xml"))
    assert [i.location for i in result.errors] == [
        "/ClinicalDocument/recordTarget/patientRole/patient/name"
    ]
