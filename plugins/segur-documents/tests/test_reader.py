"""Reading received CDA documents, and refusing anything else with a typed error."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from segur_documents import Entretien, build_entretien, build_vaccination, read_cda
from segur_documents.reader import parse_ts
from segur_documents.testing import contents, contexts

from segur_core.errors import DocumentError, InputError
from segur_core.model import DocumentStatus, Sex

from .test_builders import build_any, vaccination


@pytest.mark.parametrize(
    ("name", "level", "code"),
    [
        ("VAC-NOTE_2023.01.xml", "N3", "87273-9"),
        ("VAC_2023.01.xml", "N3", "11369-6"),
        ("DOC_NON_STRUCTURE_CDA-R2-N1.xml", "N1", "11502-2"),
        ("01_Modèles_contenus_CDA.xml", "N3", "60591-5"),
    ],
)
def test_kit_examples(kit_path, name, level, code):
    doc = read_cda((kit_path / "ExemplesCDA" / name).read_bytes())
    assert doc.level == level
    assert doc.type.code == code
    assert doc.patient.ins.oid == "1.2.250.1.213.1.4.10"
    assert doc.patient.traits.birth_name == "PAT-TROIS"
    assert doc.patient.traits.first_names == ("DOMINIQUE", "MARIE-LOUISE")
    assert doc.patient.traits.sex is Sex.FEMALE
    assert doc.patient.traits.birth_place == "51215"
    assert doc.authors and doc.authors[0].id.startswith("8")
    assert doc.organization is not None
    if level == "N1":
        assert doc.media_type == "application/pdf"
        assert doc.attachments[0].data.startswith(b"%PDF")
    else:
        assert doc.sections


def test_roundtrip_of_built_document(context):
    result = build_vaccination(vaccination(), context)
    doc = read_cda(result.xml)
    assert doc.id == result.document.id
    assert doc.set_id == result.document.set_id
    assert doc.version == 1
    assert doc.title == "NOTE DE VACCINATION"
    assert doc.authors[0].rpps == "10101010101"
    assert doc.organization.finess == "750123456"
    assert doc.legal_authenticator.profession.code == "G15_21/A"
    assert doc.patient.ins.matricule == "279035121518989"
    assert doc.effective_datetime == dt.datetime(2024, 10, 2, 9, 30, tzinfo=dt.UTC)
    received = doc.to_health_document(result.xml, "P0001")
    assert received.status is DocumentStatus.RECEIVED
    assert received.type_code == "87273-9"


def test_n1_attachment_roundtrip(context):
    result = build_entretien(Entretien(dt.date(2024, 5, 6), "AOD"), context)
    doc = read_cda(result.xml)
    assert doc.body_kind == "nonXMLBody"
    assert doc.attachments[0].data == result.pdf


@settings(max_examples=10, deadline=None)
@given(ctx=contexts(), content=contents())
def test_read_what_we_build(ctx, content):
    result = build_any(content, ctx)
    doc = read_cda(result.xml)
    assert doc.type.code == result.document.type_code
    assert doc.version == ctx.version
    assert doc.replaces == ctx.replaces
    traits = ctx.patient.identity.traits
    assert doc.patient.traits.birth_name == traits.birth_name
    assert doc.patient.traits.birth_date == traits.birth_date
    assert (doc.patient.ins is None) == (ctx.ins is None)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not xml at all",
        b"<x/>",
        b'<ClinicalDocument xmlns="urn:other"/>',
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>',
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2"/></ClinicalDocument>',
        b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    ],
)
def test_garbage_is_refused(data):
    with pytest.raises(InputError):
        read_cda(data)


def test_bad_base64_is_refused(context):
    xml = build_entretien(Entretien(dt.date(2024, 5, 6), "AOD"), context).xml
    start = xml.index(b'representation="B64">') + len(b'representation="B64">')
    broken = xml[:start] + b"!!!!" + xml[start:]
    with pytest.raises(DocumentError, match="base64"):
        read_cda(broken)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_a_document_or_a_typed_error(data):
    with contextlib.suppress(InputError):
        read_cda(data)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"<id root='1.2.3'/>",
                b"<title>t</title>",
                b"<code code='x'/>",
                b"<component><nonXMLBody><text representation='B64'>QUJD</text>"
                b"</nonXMLBody></component>",
                b"<component><structuredBody/></component>",
                b"<versionNumber value='x'/>",
                b"<effectiveTime value='2024'/>",
                b"<recordTarget><patientRole><id/></patientRole></recordTarget>",
                b"<author><assignedAuthor/></author>",
            ]
        ),
        max_size=8,
    )
)
def test_partial_documents(parts):
    data = b'<ClinicalDocument xmlns="urn:hl7-org:v3">' + b"".join(parts) + b"</ClinicalDocument>"
    try:
        doc = read_cda(data)
    except DocumentError:
        return
    assert doc.id.startswith("1.2.3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240102", dt.datetime(2024, 1, 2)),
        ("2024", dt.datetime(2024, 1, 1)),
        (
            "20240102153000+0100",
            dt.datetime(2024, 1, 2, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
        ("20241302", None),
        ("abc", None),
        (None, None),
    ],
)
def test_parse_ts(text, expected):
    assert parse_ts(text) == expected


def test_b64_helper_accepts_wrapped_lines():
    pdf = b"%PDF-1.4 test"
    wrapped = base64.encodebytes(pdf).decode()
    xml = (
        '<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2"/><component><nonXMLBody>'
        f'<text mediaType="application/pdf" representation="B64">{wrapped}</text>'
        "</nonXMLBody></component></ClinicalDocument>"
    ).encode()
    assert read_cda(xml).attachments[0].data == pdf
