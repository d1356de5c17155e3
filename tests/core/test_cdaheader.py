"""The CDA header reader, on every official example and on broken headers.

The XDM archives of the ANS carry, next to each CDA, the XDS metadata the ANS derived from
its header: the header read here must agree with it (ids, INS, codes, times, patient).
Anything else gives a typed error, never a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from segur_core import cdaheader, safezip
from segur_core.cdaheader import INS_OIDS, read_header
from segur_core.errors import DocumentError, InputError

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
EXAMPLES = SHARED / "cisis" / "TestContenuCDA-3-0" / "ExemplesCDA"
XDM = SHARED / "xdm"
PS_IDNAT = "1.2.250.1.71.4.2.1"
RIM = "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}"
SCHEME = {
    "typeCode": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "confidentialityCode": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "healthcareFacilityTypeCode": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
}


def _names(folder: Path, pattern: str) -> list[str]:
    return sorted(p.name for p in folder.glob(pattern)) if folder.is_dir() else []


def _xdm(name: str) -> tuple[bytes, bytes]:
    """The CDA and the ebRIM metadata of an official XDM archive, read safely."""
    if not (XDM / name).is_file():
        pytest.skip(f"the official XDM archives are not in {XDM}")
    with safezip.open_zip(XDM / name) as archive:
        return (
            archive.read("IHE_XDM/SUBSET01/DOC0001.XML"),
            archive.read("IHE_XDM/SUBSET01/METADATA.XML"),
        )


def _utc(ts: str) -> str:
    """A CDA TS with its offset as the UTC DTM XDS metadata carries."""
    digits, offset = ts[:-5], ts[-5:]
    moment = dt.datetime.strptime(digits.ljust(14, "0") + offset, "%Y%m%d%H%M%S%z")
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")[: len(digits)]


def _official_entry(metadata: bytes) -> dict[str, list[str]]:
    """The DocumentEntry of an XDM METADATA.XML as ``name -> values``."""
    entry = etree.fromstring(metadata).find(f".//{RIM}ExtrinsicObject")
    assert entry is not None
    found: dict[str, list[str]] = {}
    for slot in entry.findall(f"{RIM}Slot"):
        found[slot.get("name")] = [(v.text or "").strip() for v in slot.iter(f"{RIM}Value")]
    for ident in entry.iter(f"{RIM}ExternalIdentifier"):
        found[ident.find(f"{RIM}Name/{RIM}LocalizedString").get("value")] = [ident.get("value")]
    for name, scheme in SCHEME.items():
        found[name] = [
            c.get("nodeRepresentation")
            for c in entry.findall(f"{RIM}Classification")
            if c.get("classificationScheme") == scheme
        ]
    found["title"] = [entry.find(f"{RIM}Name/{RIM}LocalizedString").get("value").strip()]
    return found


@pytest.mark.parametrize("name", _names(XDM, "*.zip") or ["absent.zip"])
def test_header_agrees_with_the_official_xds_metadata(name):
    cda, metadata = _xdm(name)
    header = read_header(cda)
    official = _official_entry(metadata)
    ins = header.patient.ins
    assert official["XDSDocumentEntry.uniqueId"] == [header.id.value]
    assert official["XDSDocumentEntry.patientId"] == [f"{ins.matricule}^^^&{ins.oid}&ISO^NH"]
    assert official["typeCode"] == [header.code.code]
    assert official["confidentialityCode"][0] == header.confidentiality.code
    assert official["healthcareFacilityTypeCode"] == [header.healthcare_facility.code]
    assert official["creationTime"] == [_utc(header.effective_time)]
    assert official["serviceStartTime"] == [_utc(header.service_events[0].low)]
    assert official["languageCode"] == [header.language]
    assert official["title"] == [header.title]
    patient = header.patient
    info = official["sourcePatientInfo"]
    assert f"PID-5|{patient.birth_name}^{patient.first_name}^{patient.first_names}^^^^L" in info
    assert f"PID-7|{patient.birth_time[:8]}" in info
    assert f"PID-8|{patient.sex}" in info
    assert any(i.endswith(f"^^{patient.birth_place}") for i in info if i.startswith("PID-11|"))
    legal = header.legal_authenticator
    person = official["legalAuthenticator"][0].split("^")
    assert person[:2] == [legal.ids[0].extension, legal.family_name]
    assert header.body in {"structuredBody", "nonXMLBody"}
    assert (header.media_type == "application/pdf") == (header.body == "nonXMLBody")


@pytest.mark.parametrize("name", _names(EXAMPLES, "*.xml") or ["absent.xml"])
def test_every_official_example_has_a_complete_header(name):
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"the ANS CDA examples are not in {EXAMPLES}")
    header = read_header(path.read_bytes())
    assert header.id.root and header.set_id.root and header.version is not None
    assert header.code.code and header.confidentiality.code and header.effective_time
    assert header.patient.ins is not None and header.patient.ins.oid in INS_OIDS
    assert header.patient.birth_name and header.patient.first_names and header.patient.sex
    assert header.authors and all(a.ids for a in header.authors)
    assert any(a.extension(PS_IDNAT) for a in header.authors)
    assert header.custodian is not None and header.custodian.ids
    assert header.templates and header.body is not None
    # the same document in the official XDM archive (when there is one) reads the same
    if (XDM / name.replace(".xml", ".zip")).is_file():
        cda, _ = _xdm(name.replace(".xml", ".zip"))
        same = read_header(cda)
        assert (same.id, same.patient.ins, same.code) == (
            header.id,
            header.patient.ins,
            header.code,
        )


def test_reprs_hide_the_patient_and_the_professionals():
    path = EXAMPLES / "VAC-NOTE_2023.01.xml"
    if not path.is_file():
        pytest.skip(f"the ANS CDA examples are not in {EXAMPLES}")
    header = read_header(path.read_bytes())
    shown = repr(header) + str(header)
    patient = header.patient
    for secret in (
        patient.ins.matricule,
        patient.birth_name,
        patient.first_name,
        patient.birth_time,
    ):
        assert secret and secret not in shown
    author = attrs.evolve(header.authors[0], organization=None)  # a cabinet may bear a name
    assert author.family_name and author.family_name not in repr(author)
    assert author.given_name and author.given_name not in str(author)
    assert header.code.code in shown  # the rest stays readable


HEADER = b"""<ClinicalDocument xmlns="urn:hl7-org:v3">
  <templateId root=" 1.2.3 "/><templateId root=""/>
  <id root=" 1.2.250.1 " extension=" 42 "/>
  <code code="87273-9" codeSystem="2.16.840.1.113883.6.1"/>
  <title>Note   de
     vaccination</title>
  <effectiveTime value="20240102101500+0100"/>
  <confidentialityCode code=" "/>
  <setId root="1.2.250.1" extension="S"/><versionNumber value="2x"/>
  <recordTarget><patientRole>
    <id root="1.2.250.1.213.1.4.8"/>
    <id root="1.2.250.1.213.1.4.8" extension="277076322082910"/>
    <id root="1.2.250.1.213.1.4.9" extension="177076322082911"/>
    <id root="2.25.1" extension="P1"/>
    <patient><name><given>ANNE MARIE</given><family qualifier="BR">NOM</family>
      <given qualifier="BR">ANNE</given></name>
      <administrativeGenderCode code="F"/><birthTime value="19770714"/></patient>
  </patientRole></recordTarget>
  <author><time value="2024"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" extension="810"/>
  </assignedAuthor></author>
  <author><time value="2024"/></author>
  <relatedDocument typeCode="XFRM"><parentDocument><id root="9.9"/></parentDocument>
  </relatedDocument>
  <relatedDocument typeCode="RPLC"><parentDocument><id root="1.2" extension="1"/>
    <setId root="1.2" extension="S"/><versionNumber value="1"/></parentDocument>
  </relatedDocument>
  <component><nonXMLBody><text mediaType=" application/pdf ">JVBER</text></nonXMLBody></component>
</ClinicalDocument>"""


def test_values_are_read_as_the_schema_types_them():
    header = read_header(HEADER)
    assert header.templates == ("1.2.3",)  # tokens are stripped; empty ones are absent
    assert header.id.value == "1.2.250.1^42"
    assert header.title == "Note de vaccination"  # white space collapsed
    assert header.confidentiality is None  # a blank code is no code
    assert header.version_number == "2x" and header.version is None
    assert header.patient.ins == cdaheader.INS("277076322082910", "1.2.250.1.213.1.4.8")
    assert header.patient.local_ids == (
        ("1.2.250.1.213.1.4.9", "177076322082911"),
        ("2.25.1", "P1"),
    )
    assert (header.patient.first_names, header.patient.first_name) == ("ANNE MARIE", "ANNE")
    assert [a.extension(PS_IDNAT) for a in header.authors] == ["810"]  # no assignedAuthor
    assert header.replaces == "1.2^1"
    assert header.related[1].set_id.value == "1.2^S" and header.related[1].version_number == "1"
    assert (header.body, header.media_type) == ("nonXMLBody", "application/pdf")


@pytest.mark.parametrize(
    "data",
    [
        b'<ClinicalDocument xmlns="urn:other"/>',
        b"<ClinicalDocument/>",
        b'<h:document xmlns:h="urn:hl7-org:v3"/>',
    ],
)
def test_anything_but_a_clinical_document_is_refused(data):
    with pytest.raises(DocumentError, match="not a CDA R2 document"):
        read_header(data)


def test_an_empty_clinical_document_has_an_empty_header():
    header = read_header(b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>')
    assert header == cdaheader.CdaHeader(id=None)
    assert header.replaces is None and header.version is None


def test_the_size_limit_is_applied_before_parsing():
    with pytest.raises(InputError):
        read_header(HEADER, max_bytes=100)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_give_a_header_or_a_typed_error(data):
    with contextlib.suppress(InputError):
        read_header(data)


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)


@st.composite
def mutated_headers(draw: st.DrawFn) -> bytes:
    """The header above with elements removed, duplicated, emptied and attributes changed."""
    root = etree.fromstring(HEADER)
    for _ in range(draw(st.integers(1, 8))):
        elements = _elements(root)
        element = elements[draw(st.integers(0, len(elements) - 1))]
        action = draw(
            st.sampled_from(["drop", "copy", "attr", "unset", "text", "child", "comment", "tail"])
        )
        parent = element.getparent()
        if action == "drop" and parent is not None:
            parent.remove(element)
        elif action == "copy" and parent is not None:
            element.addnext(etree.fromstring(etree.tostring(element, with_tail=False)))
        elif action == "attr":
            name = draw(
                st.sampled_from(["root", "extension", "code", "value", "typeCode", "qualifier"])
            )
            element.set(name, draw(_TEXT))
        elif action == "unset" and element.attrib:
            del element.attrib[draw(st.sampled_from(sorted(element.attrib)))]
        elif action == "text":
            element.text = draw(_TEXT)
        elif action == "child":
            tag = draw(st.sampled_from(["id", "name", "family", "given", "code", "patient"]))
            etree.SubElement(element, f"{{urn:hl7-org:v3}}{tag}").tail = draw(_TEXT)
        elif action == "comment":
            element.insert(0, etree.Comment(draw(_TEXT).replace("-", "")))
        elif action == "tail" and parent is not None:
            element.tail = draw(_TEXT)
    return etree.tostring(root)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_headers())
def test_mutated_headers_read_or_give_a_typed_error(data):
    try:
        header = read_header(data)
    except DocumentError:
        with pytest.raises(DocumentError):
            _plain_header(data)
        return
    assert header == _plain_header(data)  # the lean XPath and the leaf shortcut change nothing
    repr(header)
    if header.id is not None and header.id.value is not None:
        assert header.id.value == header.id.value.strip()
    for text in (header.title, header.effective_time, header.version_number):
        assert text is None or (text and text == text.strip())
    if header.patient is not None and header.patient.ins is not None:
        assert header.patient.ins.oid in INS_OIDS and header.patient.ins.matricule


def _plain_header(data: bytes) -> cdaheader.CdaHeader:
    """The header read with lxml's default XPath options and every text through
    ``itertext``: what the reader's lean XPath and leaf shortcut must give."""
    plain = functools.lru_cache(maxsize=64)(
        lambda path: etree.XPath(path, namespaces={"c": cdaheader.HL7})
    )

    def text(node, path):
        found = cdaheader._first(node, path)
        return None if found is None else " ".join("".join(found.itertext()).split()) or None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cdaheader, "_compiled", plain)
        patch.setattr(cdaheader, "_text", text)
        return read_header(data)


@pytest.mark.parametrize("name", _names(EXAMPLES, "*.xml") or ["absent.xml"])
def test_each_official_example_reads_as_with_plain_xpath(name):
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"the ANS CDA examples are not in {EXAMPLES}")
    data = path.read_bytes()
    assert read_header(data) == _plain_header(data)
