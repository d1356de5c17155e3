"""HL7 v2 escaping and ebRIM length limits in XDS metadata: the client writes what a
registry accepts, and the sandbox refuses what a registry refuses."""

from __future__ import annotations

import uuid

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from segur_dmp import ebrim
from segur_dmp.errors import RegistryError
from segur_dmp.ns import OID
from segur_dmp.testing import KIT_CX, KIT_INS, STRUCTURE, kit_example

from segur_core.xds import ebrim as xds_ebrim
from segur_core.xds import hl7v2
from segur_core.xds.metadata import Author, entry_from_cda

SEPARATORS = "|^~\\&"
#: text with every HL7 v2 separator, accents, line breaks and the odd control character
texts = st.text(
    st.sampled_from(SEPARATORS + "\n\t\x01") | st.characters(codec="utf-8"), max_size=120
)
long_texts = st.text(st.sampled_from(SEPARATORS + "aé ") | st.characters(), max_size=700)


@given(texts)
@example("A & B ^ C ~ D | E \\ F")
@example("\\X0D\\")  # already looks like an escape sequence: escaped again
def test_escape_round_trips(text):
    escaped = hl7v2.escape(text)
    assert not set(escaped) & set("|^~&") and "\n" not in escaped
    assert hl7v2.unescape(escaped) == text


@pytest.mark.parametrize(
    ("char", "sequence"),
    [("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"), ("\\", "\\E\\")],
)
def test_the_hl7v2_escape_sequences(char, sequence):
    assert hl7v2.escape(f"a{char}b") == f"a{sequence}b"


@given(st.text(max_size=40))
@example("\\Q\\")
@example("a\\b")
def test_unescape_refuses_unknown_sequences(value):
    try:
        text = hl7v2.unescape(value)
    except hl7v2.Hl7v2Error:
        return
    assert hl7v2.unescape(hl7v2.escape(text)) == text


@given(family=texts, given_name=texts)
def test_xcn_components_round_trip(family, given_name):
    value = hl7v2.xcn("810101010101", family, given_name, OID.PS_IDNAT)
    assert hl7v2.problems("authorPerson", value) == []
    parts = hl7v2.components(value)
    assert len(parts) == 13 and parts[0] == "810101010101" and parts[12] == "IDNPS"
    assert hl7v2.unescape(parts[1]) == family.rstrip() or family.startswith(
        hl7v2.unescape(parts[1])
    )
    if len(value) < hl7v2.LONG_NAME:  # nothing was cut
        assert (hl7v2.unescape(parts[1]), hl7v2.unescape(parts[2])) == (family, given_name)


@given(name=texts)
def test_xon_round_trips(name):
    value = hl7v2.xon(name, "1750803447", OID.STRUCT_IDNAT)
    assert hl7v2.problems("authorInstitution", value) == []
    parts = hl7v2.components(value)
    assert parts[9] == "1750803447"
    if len(value) < hl7v2.LONG_NAME:
        assert hl7v2.unescape(parts[0]) == name


@given(family=long_texts, given_name=long_texts, name=long_texts, display=long_texts)
@example(family="", given_name="", name="É" * 300, display="x")
@example(family="\\" * 300, given_name="^" * 300, name="&" * 600, display="~" * 600)
def test_values_always_fit_and_stay_well_formed(family, given_name, name, display):
    values = {
        "authorPerson": hl7v2.xcn("810101010101", family, given_name, OID.PS_IDNAT),
        "authorInstitution": hl7v2.xon(name, "1750803447", OID.STRUCT_IDNAT),
        "authorSpecialty": hl7v2.coded("G15_21", display, "1.2.250.1.213.1.1.4.5"),
        "authorRole": hl7v2.text_value(display, slot="authorRole"),
        "sourcePatientInfo": hl7v2.pid5(family, given_name),
    }
    for slot, value in values.items():
        assert len(value) <= hl7v2.LONG_NAME, slot
        assert hl7v2.problems(slot, value) == [], slot
    kept = hl7v2.unescape(hl7v2.components(values["authorInstitution"])[0])
    assert name.startswith(kept)  # cut, never altered


def test_identifiers_that_cannot_fit_are_refused():
    with pytest.raises(hl7v2.MetadataLimitError) as caught:
        hl7v2.xon("Pharmacie", "1" * 300, OID.STRUCT_IDNAT)
    assert caught.value.slot == "authorInstitution"


@given(st.text(max_size=3000))
@example("x" * 1241)
def test_titles_are_shortened_by_a_visible_rule(title):
    fitted = hl7v2.fit_text(title)
    assert len(fitted) <= hl7v2.FREE_FORM_TEXT
    if len(title) <= hl7v2.FREE_FORM_TEXT:
        assert fitted == title
    else:
        assert fitted.endswith(hl7v2.ELLIPSIS)
        assert title.startswith(fitted.removesuffix(hl7v2.ELLIPSIS))


# -- through the CDA header and the sandbox ----------------------------------------------

LONG_TITLE = "BILAN " + "TRÈS DÉTAILLÉ " * 88  # 1,238 characters
ORGANISATION = "Pharmacie A&amp;B ^ Dupont ~ Fils | \\ " + "des Trois Fontaines " * 14
ORGANISATION_TEXT = ORGANISATION.replace("&amp;", "&")
AUTHOR_FAMILY = "MÜLLER^DE LA TOUR &amp; FILS"


def hostile_cda() -> tuple[bytes, str]:
    cda = kit_example("VAC-NOTE_2023.01.xml")
    uid = f"2.25.{uuid.uuid4().int}"
    swaps = [
        (b'<id root="1.2.250.1.213.1.1.1.46.2023.1.1"/>', f'<id root="{uid}"/>'),
        (b"<title>NOTE DE VACCINATION</title>", f"<title>{LONG_TITLE}</title>"),
        (b"<name>Cabinet M\xc3\xa9dical du Dr MULLER</name>", f"<name>{ORGANISATION}</name>"),
        (b"<family>MULLER</family>", f"<family>{AUTHOR_FAMILY}</family>"),
    ]
    for old, new in swaps:
        assert old in cda
        cda = cda.replace(old, new.encode())
    return cda, uid


def authorise(dmp) -> None:
    dmp.registry.set_authorization(KIT_CX, STRUCTURE.idnst, "VALIDE")


def test_cda_with_separators_and_long_values_is_fed(client, dmp):
    cda, uid = hostile_cda()
    assert len(LONG_TITLE) > 1024 and len(ORGANISATION_TEXT) > 256
    entry = entry_from_cda(cda, patient_id=KIT_CX)
    assert len(entry.title) == 1024 and entry.title.endswith("…")
    (author,) = entry.authors
    (institution,) = author.institutions
    assert len(institution) <= 256 and hl7v2.problems("authorInstitution", institution) == []
    assert ORGANISATION_TEXT.startswith(hl7v2.unescape(hl7v2.components(institution)[0]))
    assert hl7v2.components(author.person)[1] == "MÜLLER\\S\\DE LA TOUR \\T\\ FILS"
    authorise(dmp)
    client.provide_and_register(KIT_INS, cda, entry)
    stored = {e.unique_id: e for e in client.find_documents(KIT_INS)}[uid]
    assert stored.title == entry.title
    assert stored.authors[0].institutions == (institution,)
    assert stored.authors[0].person == author.person


def test_the_client_never_writes_over_the_limits():
    cda, _ = hostile_cda()
    entry = entry_from_cda(cda, patient_id=KIT_CX)
    with pytest.raises(hl7v2.MetadataLimitError):
        ebrim.document_entry_element(attrs.evolve(entry, title="x" * 1025))
    with pytest.raises(hl7v2.MetadataLimitError):
        ebrim.document_entry_element(attrs.evolve(entry, source_patient_info=("x" * 257,)))


def _refused(client, dmp, entry, cda, uid) -> RegistryError:
    authorise(dmp)
    with pytest.raises(RegistryError) as caught:
        client.provide_and_register(KIT_INS, cda, entry)
    assert dmp.registry.find_by_unique_id(uid) is None
    return caught.value


def test_the_sandbox_refuses_unescaped_hl7v2_values(client, dmp):
    cda, uid = hostile_cda()
    entry = entry_from_cda(cda, patient_id=KIT_CX)
    raw = Author(
        person=f"810101010101^MÜLLER^DE LA TOUR^Charles^^^^^^&{OID.PS_IDNAT}&ISO^D^^^IDNPS",
        institutions=(f"A&B^^^^^&{OID.STRUCT_IDNAT}&ISO^IDNST^^^1750803447",),
    )
    error = _refused(client, dmp, attrs.evolve(entry, authors=(raw,)), cda, uid)
    assert error.code == "XDSRegistryMetadataError"
    contexts = " ".join(item.context for item in error.errors)
    assert "authorPerson has 14 components" in contexts
    assert "authorInstitution organisation name has an unescaped &" in contexts


def test_the_sandbox_refuses_values_over_the_ebrim_limits(client, dmp, monkeypatch):
    cda, uid = hostile_cda()
    entry = entry_from_cda(cda, patient_id=KIT_CX)
    # as a client without the limits would send it: the 1,238-character title, a
    # 300-character institution
    monkeypatch.setattr(xds_ebrim, "LONG_NAME", 10_000)
    monkeypatch.setattr(xds_ebrim, "FREE_FORM_TEXT", 10_000)
    institution = f"{'X' * 300}^^^^^&{OID.STRUCT_IDNAT}&ISO^IDNST^^^1750803447"
    author = attrs.evolve(entry.authors[0], institutions=(institution,))
    bad = attrs.evolve(entry, title=LONG_TITLE, authors=(author,))
    error = _refused(client, dmp, bad, cda, uid)
    assert error.code == "XDSRegistryMetadataError"
    contexts = " ".join(item.context for item in error.errors)
    assert "LocalizedString/@value longer than 1024" in contexts
    assert "slot authorInstitution value longer than 256" in contexts
