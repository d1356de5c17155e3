"""Phones and e-mails as users type them become the URIs ``telecom/@value`` must hold."""

from __future__ import annotations

import re
from urllib.parse import unquote

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree
from segur_documents import build_vaccination
from segur_documents.telecom import TelecomError, mailto_uri, tel_uri
from segur_documents.testing import emails, typed_phones

from segur_core.errors import DocumentError

from .test_builders import vaccination

NS = {"c": "urn:hl7-org:v3"}
TEL = re.compile(r"\Atel:\+[1-9][0-9]{5,14}(;ext=[0-9]{1,20})?\Z")
# what XPath iri-to-uri() would percent-encode: a value holding none of them is a URI
IRI_ESCAPED = re.compile(r"[^\x21-\x7e]|[<>\"{}|\\^`]")


@given(typed_phones())
@example(("06 12 34 56 78", "+33612345678"))
@example(("06.12.34.56.78", "+33612345678"))
@example(("06-12-34-56-78", "+33612345678"))
@example(("+33 6 12 34 56 78", "+33612345678"))
@example(("0033 6 12 34 56 78", "+33612345678"))
@example(("+33 (0)6 12 34 56 78", "+33612345678"))
def test_typed_french_numbers_become_e164(pair):
    typed, e164 = pair
    assert tel_uri(typed, field="patient.phone") == f"tel:{e164}"


@pytest.mark.parametrize(
    ("typed", "uri"),
    [
        ("0590 27 12 34", "tel:+590590271234"),  # Guadeloupe / Saint-Barthélemy
        ("0690 30 12 34", "tel:+590690301234"),  # Guadeloupe mobile
        ("0596 60 12 34", "tel:+596596601234"),  # Martinique
        ("0696 12 34 56", "tel:+596696123456"),
        ("0694 20 12 34", "tel:+594694201234"),  # Guyane
        ("02 62 12 34 56", "tel:+262262123456"),  # La Réunion
        ("0692 12 34 56", "tel:+262692123456"),
        ("0639 69 12 34", "tel:+262639691234"),  # Mayotte mobile
        ("+262 262 12 34 56", "tel:+262262123456"),
        ("+1 650 253 0000", "tel:+16502530000"),
        ("01 40 00 00 00 ext. 12", "tel:+33140000000;ext=12"),
    ],
)
def test_overseas_and_international_numbers(typed, uri):
    assert tel_uri(typed, field="structure.phone") == uri


@given(st.text(max_size=80))
@example("06 12 34 56")
@example("15")
@example("3615")
@example("06 12 34 56 78 90 12")
@example("07 00 00 00 00")
@example("0" * 5000)
def test_any_text_is_a_tel_uri_or_refused_naming_the_field(text):
    try:
        uri = tel_uri(text, field="patient.phone")
    except TelecomError as error:
        assert error.field == "patient.phone"
        # the value is personal data: the message names the field, never the value
        assert error.message == "patient.phone: not a valid telephone number"
        assert isinstance(error, DocumentError)
    else:
        assert TEL.match(uri), uri
        assert not IRI_ESCAPED.search(uri)


@given(emails)
@example("Jean.Dupont@Exemple.FR")
@example("o'brien+dmp@exemple.fr")
@example("a&b@exemple.fr")
def test_emails_become_mailto_uris(typed):
    uri = mailto_uri(f" {typed} ", field="patient.email")
    assert uri.startswith("mailto:")
    assert not IRI_ESCAPED.search(uri)
    assert "?" not in uri and "#" not in uri and "%" not in uri.partition("@")[2]
    local, _, domain = uri.removeprefix("mailto:").rpartition("@")
    typed_local, _, typed_domain = typed.rpartition("@")
    assert unquote(local) == typed_local
    assert domain == typed_domain.lower()


def test_international_email_is_percent_encoded():
    uri = mailto_uri("élodie@exemple.fr", field="patient.email")
    assert uri == "mailto:%C3%A9lodie@exemple.fr"
    assert mailto_uri("marie@pharmacie-é.fr", field="patient.email") == (
        "mailto:marie@xn--pharmacie--k7a.fr"
    )


@given(st.text(max_size=300))
@example("jean dupont@exemple.fr")
@example("jean.dupont@localhost")
@example("jean.dupont")
@example("a@b.fr?subject=x")
@example("x" * 250 + "@exemple.fr")
def test_any_text_is_a_mailto_uri_or_refused_naming_the_field(text):
    try:
        uri = mailto_uri(text, field="patient.email")
    except TelecomError as error:
        assert error.field == "patient.email"
        assert error.message == "patient.email: not a valid e-mail address"
    else:
        assert uri.startswith("mailto:")
        assert not IRI_ESCAPED.search(uri)


def _telecoms(xml: bytes) -> list[tuple[str, str]]:
    root = etree.fromstring(xml)
    return [
        (etree.QName(t.getparent()).localname, t.get("value"))
        for t in root.iterfind(".//c:telecom", NS)
    ]


def test_typed_values_are_written_as_uris(context):
    patient = attrs.evolve(context.patient, phone="06 12 34 56 78", email="Jean@Exemple.FR")
    structure = attrs.evolve(context.structure, phone="01.40.00.00.00")
    ctx = attrs.evolve(context, patient=patient, structure=structure)
    values = _telecoms(build_vaccination(vaccination(), ctx).xml)
    assert ("patientRole", "tel:+33612345678") in values
    assert ("patientRole", "mailto:Jean@exemple.fr") in values
    assert ("representedOrganization", "tel:+33140000000") in values
    assert ("assignedAuthor", "tel:+33140000000") in values
    assert all(v.startswith(("tel:+", "mailto:")) for _, v in values)


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        ("patient", "phone", "06 12 34"),
        ("patient", "email", "jean.dupont@"),
        ("structure", "phone", "pas de téléphone"),
    ],
)
def test_untypable_values_are_refused_naming_the_field(context, where, field, value):
    changed = attrs.evolve(getattr(context, where), **{field: value})
    ctx = attrs.evolve(context, **{where: changed})
    with pytest.raises(TelecomError) as caught:
        build_vaccination(vaccination(), ctx)
    assert caught.value.field == f"{where}.{field}"
    assert value not in caught.value.message


@pytest.mark.slow
@settings(max_examples=1, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(phone=typed_phones(), email=emails)
def test_user_typed_telecoms_pass_the_official_schematron(
    official_validator, context, phone, email
):
    patient = attrs.evolve(context.patient, phone=f"  {phone[0]} ", email=email)
    structure = attrs.evolve(context.structure, phone="01 40-00.00 00")
    ctx = attrs.evolve(context, patient=patient, structure=structure)
    report = official_validator.validate(build_vaccination(vaccination(), ctx).xml)
    assert report.valid, [i.message for i in report.errors]
    assert report.issues == ()
