"""IHE XDM archives: every official ANS example is read with the right patient and
document type; archives written by segur are strict and read back; hostile or altered
archives end with a typed error."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_mssante.errors import XDMError

from segur_core.cdaheader import read_header
from segur_core.errors import InputError, UnsafeXMLError, UnsafeZipError
from segur_core.xdm import Issuer, read_metadata, read_xdm, write_xdm
from segur_core.xdm.layout import index_htm, readme_txt

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
XDM_EXAMPLES = SHARED / "xdm"
LCM_XSD = SHARED / "xds" / "schemas" / "ebRS" / "lcm.xsd"


def official_archives() -> list[Path]:
    return sorted(XDM_EXAMPLES.glob("*.zip")) if XDM_EXAMPLES.is_dir() else []


ISSUER = Issuer(
    struct_id="3750123456",
    struct_name="Pharmacie du Centre",
    contact="Dr Claire DURAND",
    address="12 rue de la Paix 75002 PARIS",
    software="segur",
    software_version="0.1.0",
)
SOURCE = "1.2.250.1.213.1.1.9.999"

#: file → the LOINC (or CI-SIS) document type the archive must be read with.
EXPECTED_TYPES = {
    "BIO-CR-BIO_2024.01_TSH_1.zip": "11502-2",
    "CNAM-HR_2021.01.zip": "REMB",
    "CSE-CS8_2025.01.zip": "CERT_DECL",
    "DOC_NON_STRUCTURE_CDA-R2-N1.zip": "11502-2",
    "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.zip": "18748-4",
    "LDL-SES_2022.01.zip": "11490-0",
    "VAC-NOTE_2023.01.zip": "87273-9",
    "VAC_2023.01.zip": "11369-6",
    "VSM_1.4_2022.01.zip": "SYNTH",
    "eDISP-MED_2024.01.zip": "60593-1",
    "eP-MED-DM_2024.01_PosoNonStruct.zip": "57833-6",
    "eP-MED-DM_2024.01_PosoStruct.zip": "57833-6",
}


def _needs_examples() -> None:
    if not official_archives():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the official XDM examples are missing from {XDM_EXAMPLES}")
        pytest.skip(f"the official XDM examples are not in {XDM_EXAMPLES}")


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# -- the official examples -------------------------------------------------------------------


def test_every_official_example_is_listed():
    _needs_examples()
    assert sorted(p.name for p in official_archives()) == sorted(EXPECTED_TYPES)


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_official_example_is_read_with_its_patient_and_type(name):
    _needs_examples()
    archive = read_xdm(XDM_EXAMPLES / name)
    (document,) = archive.documents
    header = read_header(document.content)
    assert document.path == "IHE_XDM/SUBSET01/DOC0001.XML"
    assert document.type_code == EXPECTED_TYPES[name] == header.code.code
    # the patient: the submission set's and the entry's INS are the CDA's
    assert header.patient is not None and header.patient.ins is not None
    assert archive.ins == document.ins == header.patient.ins
    assert document.entry.unique_id == header.id.value
    assert "README.TXT" not in " ".join(archive.deviations)
    assert archive.readme.strip()


# -- written by segur ----------------------------------------------------------------------


def test_written_archive_has_the_xdm_layout(vaccination_cda):
    data = write_xdm([vaccination_cda], issuer=ISSUER, source_id=SOURCE)
    members = _members(data)
    assert sorted(members) == [
        "IHE_XDM/SUBSET01/DOC0001.XML",
        "IHE_XDM/SUBSET01/METADATA.XML",
        "INDEX.HTM",
        "README.TXT",
    ]
    readme = members["README.TXT"]
    assert readme.isascii() and b"\r\n" in readme and b"\n" not in readme.replace(b"\r\n", b"")
    assert b"Pharmacie du Centre (3750123456)" in readme
    index = members["INDEX.HTM"]
    assert b'href="README.TXT"' in index and b"3750123456" in index
    assert members["IHE_XDM/SUBSET01/DOC0001.XML"] == vaccination_cda


def test_written_metadata_follows_the_rim_schema(vaccination_cda):
    if not LCM_XSD.is_file():
        pytest.skip(f"the ebRS schemas are not in {LCM_XSD.parent}")
    from lxml import etree

    from segur_core.safexml import parse_xml

    class W3C(etree.Resolver):
        """rim.xsd imports xml.xsd by its W3C URL: the local copy instead."""

        def resolve(self, url, pubid, context):
            if url and url.endswith("/xml.xsd") and url.startswith("http://www.w3.org/"):
                return self.resolve_filename(str(SHARED / "xds/schemas/w3c/xml.xsd"), context)
            return None

    members = _members(write_xdm([vaccination_cda], issuer=ISSUER, source_id=SOURCE))
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(W3C())
    schema = etree.XMLSchema(etree.parse(str(LCM_XSD), parser))
    metadata = parse_xml(members["IHE_XDM/SUBSET01/METADATA.XML"])
    assert schema.validate(metadata), schema.error_log
    etree.fromstring(members["INDEX.HTM"])  # well-formed XHTML


def test_written_archive_reads_back(vaccination_cda):
    data = write_xdm([vaccination_cda, vaccination_cda], issuer=ISSUER, source_id=SOURCE)
    archive = read_xdm(data)
    header = read_header(vaccination_cda)
    assert [d.path for d in archive.documents] == [
        "IHE_XDM/SUBSET01/DOC0001.XML",
        "IHE_XDM/SUBSET01/DOC0002.XML",
    ]
    for document in archive.documents:
        assert document.content == vaccination_cda
        assert document.type_code == "87273-9" == header.code.code
        assert document.entry.hash == hashlib.sha1(vaccination_cda).hexdigest()
        assert document.entry.size == len(vaccination_cda)
    assert archive.ins == header.patient.ins
    assert archive.submission.source_id == SOURCE
    assert archive.deviations == ()


def test_official_document_rewritten_by_segur_round_trips():
    _needs_examples()
    original = read_xdm(XDM_EXAMPLES / "LDL-SES_2022.01.zip").documents[0]
    again = read_xdm(write_xdm([original.content], issuer=ISSUER, source_id=SOURCE))
    (document,) = again.documents
    assert document.content == original.content
    assert document.ins == original.ins
    for field in ("unique_id", "type_code", "class_code", "creation_time", "practice_setting"):
        assert getattr(document.entry, field) == getattr(original.entry, field), field


def test_documents_of_two_patients_are_refused(vaccination_cda):
    other = vaccination_cda.replace(b"279035121518989", b"180037512345678")
    assert other != vaccination_cda
    with pytest.raises(XDMError, match="one patient"):
        write_xdm([vaccination_cda, other], issuer=ISSUER, source_id=SOURCE)
    with pytest.raises(XDMError):
        write_xdm([], issuer=ISSUER, source_id=SOURCE)


# -- altered and hostile archives ------------------------------------------------------------


@pytest.fixture
def members(vaccination_cda) -> dict[str, bytes]:
    return _members(write_xdm([vaccination_cda], issuer=ISSUER, source_id=SOURCE))


def test_altered_document_is_refused(members):
    doc = "IHE_XDM/SUBSET01/DOC0001.XML"
    members[doc] = members[doc].replace(b"NOTE DE VACCINATION", b"NOTE DE VACCINATIOM")
    with pytest.raises(XDMError, match="SHA-1"):
        read_xdm(_zip(members))
    members[doc] += b" "
    with pytest.raises(XDMError, match="size"):
        read_xdm(_zip(members))


def test_missing_document_or_metadata_is_refused(members):
    with pytest.raises(XDMError, match="absent"):
        read_xdm(_zip({k: v for k, v in members.items() if not k.endswith("DOC0001.XML")}))
    with pytest.raises(XDMError, match="no IHE_XDM"):
        read_xdm(_zip({k: v for k, v in members.items() if not k.endswith("METADATA.XML")}))


def test_uri_escaping_the_subset_is_refused(members):
    meta = "IHE_XDM/SUBSET01/METADATA.XML"
    members[meta] = members[meta].replace(b">DOC0001.XML<", b">../../../etc/passwd<")
    with pytest.raises(UnsafeZipError, match="escaping"):
        read_xdm(_zip(members))


def test_traversal_member_is_refused(members):
    members["../../evil.sh"] = b"#!/bin/sh\n"
    with pytest.raises(UnsafeZipError, match="escaping"):
        read_xdm(_zip(members))


def test_compression_bomb_is_refused(members):
    members["IHE_XDM/SUBSET01/DOC0001.XML"] = b"\0" * (64 * 1024 * 1024)
    bomb = _zip(members)
    with pytest.raises(UnsafeZipError, match=r"compression bomb|times"):
        read_xdm(bomb)  # 64 MB of zeros compress a thousandfold
    with pytest.raises(UnsafeZipError, match="bytes in total"):
        read_xdm(bomb, max_bytes=32 * 1024 * 1024)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&lol4;
</lcm:SubmitObjectsRequest>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&x;
</lcm:SubmitObjectsRequest>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"])
def test_hostile_metadata_is_refused(members, payload):
    members["IHE_XDM/SUBSET01/METADATA.XML"] = payload
    with pytest.raises(UnsafeXMLError):
        read_xdm(_zip(members))


@pytest.mark.parametrize(
    "metadata, message",
    [
        (b"<notebrs/>", "SubmitObjectsRequest"),
        (
            b'<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"/>',
            "RegistryObjectList",
        ),
    ],
)
def test_metadata_that_is_not_xds_is_refused(metadata, message):
    with pytest.raises(XDMError, match=message):
        read_metadata(metadata)


def test_metadata_without_uri_is_refused(members):
    meta = "IHE_XDM/SUBSET01/METADATA.XML"
    members[meta] = members[meta].replace(b'name="URI"', b'name="NOURI"')
    with pytest.raises(XDMError, match="URI"):
        read_xdm(_zip(members))


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_any_bytes_end_in_a_typed_error(data):
    with contextlib.suppress(InputError):
        read_xdm(data)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_corrupted_archives_end_in_a_typed_error(members, data):
    """Any member altered anywhere: the archive is read or refused, never a crash."""
    name = data.draw(st.sampled_from(sorted(members)))
    content = bytearray(members[name])
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, max(len(content) - 1, 0)))
        if content:
            content[position] = data.draw(st.integers(0, 255))
    altered = dict(members, **{name: bytes(content)})
    with contextlib.suppress(InputError):
        read_xdm(_zip(altered))


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    st.builds(
        Issuer,
        struct_id=st.from_regex(r"\A[0-9]{10}\Z"),
        struct_name=text,
        contact=text,
        address=text,
        phone=text,
        software_version=text,
    ),
    st.lists(text, min_size=1, max_size=3),
)
def test_readme_and_index_are_well_formed_for_any_issuer(issuer, titles):
    from lxml import etree

    names = [f"DOC{n:04d}.XML" for n in range(1, len(titles) + 1)]
    readme = readme_txt(issuer, names)
    assert readme.isascii() and b"\n" not in readme.replace(b"\r\n", b"")
    assert issuer.struct_id.encode() in readme
    root = etree.fromstring(index_htm(issuer, list(zip(names, titles, strict=True))))
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    assert root.xpath("//h:span[@class='StructNom']/text()", namespaces=ns) in (
        [issuer.struct_name],
        [],
    )
    hrefs = root.xpath("//h:a/@href", namespaces=ns)
    assert "README.TXT" in hrefs and len(hrefs) == len(titles) + 1


def test_readme_sample_runs(vaccination_cda, capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    (sample,) = [
        s for s in re.findall(r"```python\n(.*?)```", readme, re.DOTALL) if "write_xdm" in s
    ]
    exec(compile(sample, "README.md", "exec"), {"cda_bytes": vaccination_cda})
    assert capsys.readouterr().out == "87273-9 IHE_XDM/SUBSET01/DOC0001.XML\n"
