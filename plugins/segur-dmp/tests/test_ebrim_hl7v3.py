"""Property tests: ebRIM DocumentEntry/SubmissionSet and the TD0.2/TD0.3 messages go
through their writers and readers unchanged; registry responses become typed errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from segur_dmp import ebrim, hl7v3
from segur_dmp.errors import MTOMError, RegistryError, RegistryErrorItem

from segur_core.xds.metadata import Author, Code, DocumentEntry, SubmissionSet

text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
oids = st.from_regex(r"[12](\.[0-9]{1,6}){2,8}", fullmatch=True)
codes = st.builds(Code, text, oids, text)
authors = st.builds(
    Author,
    st.none() | text,
    st.lists(text, max_size=2),
    st.lists(text, max_size=2),
    st.lists(text, max_size=2),
)
times = st.from_regex(r"20[0-9]{12}", fullmatch=True)

entries = st.builds(
    DocumentEntry,
    unique_id=oids, patient_id=text, class_code=codes, type_code=codes, format_code=codes,
    confidentiality=st.lists(codes, min_size=1, max_size=4), healthcare_facility=codes,
    practice_setting=codes, creation_time=times, title=text,
    hash=st.from_regex(r"[0-9a-f]{40}", fullmatch=True), size=st.integers(1, 10**9),
    authors=st.lists(authors, max_size=2), legal_authenticator=st.none() | text,
    service_start=st.none() | times, service_stop=st.none() | times,
    source_patient_id=text, source_patient_info=st.lists(text, max_size=3),
    version=st.integers(1, 99).map(str), event_codes=st.lists(codes, max_size=2),
)  # fmt: skip


@settings(max_examples=20)
@given(entries)
def test_document_entry_round_trip(entry):
    element = ebrim.document_entry_element(entry)
    assert ebrim.read_document_entry(etree.fromstring(etree.tostring(element))) == entry


@settings(max_examples=20)
@given(
    st.builds(
        SubmissionSet,
        unique_id=oids,
        source_id=oids,
        patient_id=text,
        submission_time=times,
        content_type=codes,
        authors=st.lists(authors, max_size=2),
        title=st.none() | text,
    )
)
def test_submission_set_round_trip(ss):
    assert ebrim.read_submission_set(ebrim.submission_set_element(ss)) == ss


@given(
    st.lists(
        st.builds(RegistryErrorItem, text, text, st.sampled_from(["error", "warning"]), text),
        max_size=4,
    )
)
def test_registry_responses(errors):
    response = ebrim.registry_response(errors)
    if any(e.severity == "error" for e in errors):
        with pytest.raises(RegistryError) as info:
            ebrim.read_registry_response(response)
        assert info.value.errors == tuple(errors) and info.value.code == errors[0].code
    else:
        assert ebrim.read_registry_response(response) == tuple(errors)


def test_unknown_status_is_refused():
    with pytest.raises(MTOMError):
        ebrim.read_registry_response(etree.Element("x", status="urn:bogus"))


ins_values = st.from_regex(r"[0-9]{13}[0-9]{2}", fullmatch=True)
ins_oids = st.sampled_from(["1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10"])


@given(
    ins_values,
    ins_oids,
    st.booleans(),
    st.booleans(),
    st.sampled_from(hl7v3.AUTHORIZATIONS),
    st.just("") | text,
)
def test_td02_round_trip(matricule, oid, exists, closed, authorization, reason):
    request = hl7v3.td02_request(matricule, oid, sender="1.2.3")
    assert hl7v3.read_td02_request(request) == (matricule, oid)
    status = hl7v3.AccessStatus(exists, closed and exists, authorization, reason)
    answer = hl7v3.td02_response(status, matricule, oid)
    assert hl7v3.read_td02_response(etree.fromstring(etree.tostring(answer))) == status


@given(ins_values, ins_oids, st.booleans())
def test_td03_round_trip(matricule, oid, add):
    assert hl7v3.read_td03_request(hl7v3.td03_request(matricule, oid, add=add)) == (
        matricule,
        oid,
        add,
    )


def test_td02_refuses_non_ins_identifiers():
    request = hl7v3.td02_request("123", "1.2.3.4", sender="1.2.3")
    with pytest.raises(MTOMError):
        hl7v3.read_td02_request(request)
