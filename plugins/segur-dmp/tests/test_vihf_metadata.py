"""VIHF building/verification, the signed submission set, and CDA header → XDS metadata."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from segur_dmp import ebrim
from segur_dmp.errors import VIHFError
from segur_dmp.testing import KIT_CX, KIT_INS, PHARMACIST, STRUCTURE, kit_example
from segur_dmp.vihf import LPS, CPSSigner, StructureSigner, build_vihf, read_vihf, verify_vihf
from segur_dmp.xades import sign_submission, verify_submission_signature

from segur_core.errors import DocumentError
from segur_core.model import Practitioner
from segur_core.xds.metadata import cx, entry_from_cda, parse_cx, xds_time


@pytest.fixture(scope="module")
def signer(pki, credential):
    return StructureSigner.from_files(str(credential.key_path), str(credential.cert_path))


def test_vihf_attributes_and_signature(pki, signer):
    assertion = build_vihf(
        signer=signer, structure=STRUCTURE, practitioner=PHARMACIST, patient_ins=KIT_INS, lps=LPS()
    )
    claims, cert = verify_vihf(assertion, ca_pem_file=str(pki.ca_bundle))
    assert claims.mode == "INDIRECTE" and claims.structure_id == STRUCTURE.idnst
    assert claims.get("Secteur_Activite") == "SA33^1.2.250.1.71.4.2.4"
    assert claims.roles == (("21", "1.2.250.1.71.1.2.7"), ("A", "1.2.250.1.71.4.2.6"))
    assert claims.purpose == "normal" and claims.resource_id == KIT_CX
    assert claims.subject == PHARMACIST.idnps and cert.subject.rfc4514_string() == claims.issuer
    # the signature sits right after Issuer
    assert etree.QName(assertion[1]).localname == "Signature"
    tampered = etree.fromstring(etree.tostring(assertion).replace(b"INDIRECTE", b"DIRECTE"))
    with pytest.raises(VIHFError):
        verify_vihf(tampered, ca_pem_file=str(pki.ca_bundle))
    with pytest.raises(VIHFError):
        verify_vihf(assertion, ca_pem_file=str(pki.foreign_ca))


def test_adjoint_and_unknown_section():
    adjoint = Practitioner("10999900003", "T", "A", specialty="G15_21/DA")
    a = build_vihf(
        signer=CPSSigner("CN=x"),
        structure=STRUCTURE,
        practitioner=adjoint,
        patient_ins=None,
        lps=LPS(),
    )
    claims = read_vihf(a)
    assert ("DA", "1.2.250.1.71.4.2.6") in claims.roles and claims.mode == "DIRECTE"
    assert not claims.signed
    with pytest.raises(VIHFError):
        build_vihf(
            signer=CPSSigner("CN=x"),
            structure=STRUCTURE,
            practitioner=Practitioner("1", "T", "A", specialty=None),
            patient_ins=None,
            lps=LPS(),
        )


def test_submission_signature(pki, signer):
    sig = sign_submission(signer, submission_set_uid="2.25.1", documents=[("2.25.2", b"doc")])
    verify_submission_signature(
        sig,
        ca_pem_file=str(pki.ca_bundle),
        submission_set_uid="2.25.1",
        documents={"2.25.2": b"doc"},
    )
    with pytest.raises(VIHFError):
        verify_submission_signature(
            sig,
            ca_pem_file=str(pki.ca_bundle),
            submission_set_uid="2.25.1",
            documents={"2.25.2": b"other"},
        )


def test_cda_header_mapping_vac_note():
    cda = kit_example("VAC-NOTE_2023.01.xml")
    e = entry_from_cda(cda, patient_id=KIT_CX)
    assert e.unique_id == "1.2.250.1.213.1.1.1.46.2023.1.1"
    assert (e.type_code.code, e.type_code.scheme) == ("87273-9", "2.16.840.1.113883.6.1")
    assert e.format_code.code == "urn:asip:ci-sis:vac-note:2021"
    assert e.healthcare_facility.code == "SA07" and e.practice_setting.code == "AMBULATOIRE"
    assert e.confidentiality[0].code == "N" and e.language == "fr-FR"
    assert e.creation_time == "20210409143500"  # +0100 → UTC
    assert e.authors[0].person.startswith("801234567897^MULLER^Charles^")
    assert e.authors[0].specialties[0].startswith("G15_10/SM26^")
    assert e.authors[0].institutions[0].endswith("^IDNST^^^1750803447")
    assert e.legal_authenticator.startswith("801234567897^MULLER^")
    assert "PID-7|19790328" in e.source_patient_info
    # round trip through ebRIM
    back = ebrim.read_document_entry(ebrim.document_entry_element(e))
    assert back == e


def test_cda_header_mapping_n1_pdf():
    e = entry_from_cda(kit_example("DOC_NON_STRUCTURE_CDA-R2-N1.xml"), patient_id=KIT_CX)
    assert e.format_code.code == "urn:ihe:iti:xds-sd:pdf:2008"
    assert e.service_start and e.service_stop


def test_wrong_patient_and_missing_header():
    cda = kit_example("VAC-NOTE_2023.01.xml")
    with pytest.raises(DocumentError) as info:
        entry_from_cda(cda, patient_id=cx("180017512300042", "1.2.250.1.213.1.4.10"))
    assert any("INS" in i.message for i in info.value.issues)
    stripped = cda.replace(b"<languageCode", b"<languageCodeX").replace(
        b'<confidentialityCode code="N"', b'<confidentialityCodeX code="N"'
    )
    with pytest.raises(DocumentError):
        entry_from_cda(stripped, patient_id=KIT_CX)


def test_an_ins_root_without_extension_is_not_the_ins():
    """An INS id without a matricule (a null flavour) is skipped, never sent as an empty CX."""
    cda = kit_example("VAC-NOTE_2023.01.xml")
    ins = b'<id extension="279035121518989" root="1.2.250.1.213.1.4.10"/>'
    blank = b'<id nullFlavor="UNK" root="1.2.250.1.213.1.4.10"/>'
    assert ins in cda
    assert entry_from_cda(cda.replace(ins, blank + ins), patient_id=KIT_CX).patient_id == KIT_CX
    with pytest.raises(DocumentError) as info:
        entry_from_cda(cda.replace(ins, blank), patient_id="")
    assert [i.location for i in info.value.issues] == ["recordTarget/patientRole/id (INS)"]


@given(
    st.from_regex(r"[0-9A-Z]{1,20}", fullmatch=True),
    st.from_regex(r"[0-2](\.[0-9]{1,5}){1,8}", fullmatch=True),
)
def test_cx_round_trip(ident, oid):
    assert parse_cx(cx(ident, oid)) == (ident, oid)


@given(st.text(max_size=40))
def test_cx_garbage(text):
    try:
        ident, oid = parse_cx(text)
    except DocumentError:
        return
    assert cx(ident, oid) == text.strip()


@given(st.text(max_size=30) | st.from_regex(r"[0-9]{12,14}[+-][0-9]{4}", fullmatch=True))
def test_xds_time_garbage(text):
    with contextlib.suppress(DocumentError):
        assert xds_time(text).isdigit()


def _strptime_reading(digits: str, offset: str) -> str:
    """An HL7 TS with an offset read with ``strptime`` alone (the plain reading)."""
    import datetime as dt

    moment = dt.datetime.strptime(digits.ljust(14, "0"), "%Y%m%d%H%M%S").replace(
        tzinfo=dt.datetime.strptime(offset, "%z").tzinfo
    )
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")[: len(digits)]


@given(
    st.from_regex(r"[0-9]{12,14}", fullmatch=True)
    # a year under 1000 would lose its leading zeros in strftime: not a 14-digit TS
    | st.datetimes(min_value=dt.datetime(1000, 1, 1)).map(lambda d: d.strftime("%Y%m%d%H%M%S")),
    st.from_regex(r"[+-][0-9]{4}", fullmatch=True) | st.sampled_from(["+0100", "-0930"]),
)
def test_xds_time_reads_as_strptime(digits, offset):
    try:
        expected = _strptime_reading(digits, offset)
    except ValueError:
        with pytest.raises(DocumentError):
            xds_time(digits + offset)
        return
    assert xds_time(digits + offset) == expected
