"""Internal DTD subsets: an ``<!ATTLIST>`` default makes libxml2 add attributes the bytes
do not carry (a namespace included), so a CDA or SOAP answer without its namespace would
pass as one. Every DOCTYPE with declarations is refused, in the core parser and through
the paths that read documents and answers from outside."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from segur_core.cli import cli
from segur_core.errors import UnsafeXMLError
from segur_core.safexml import parse_xml, parse_xml_document

KIT = Path(__file__).resolve().parents[2].parent / "shared" / "cisis" / "TestContenuCDA-3-0"
HL7 = "urn:hl7-org:v3"
SOAP = "http://www.w3.org/2003/05/soap-envelope"
NAMESPACE_DEFAULT = f'<!DOCTYPE ClinicalDocument [<!ATTLIST ClinicalDocument xmlns CDATA "{HL7}">]>'


@pytest.mark.parametrize(
    "doctype",
    [
        NAMESPACE_DEFAULT,
        '<!DOCTYPE a [<!ATTLIST a b CDATA "x">]>',
        '<!DOCTYPE a [<!ATTLIST a b CDATA #FIXED "x">]>',
        "<!DOCTYPE a [<!ELEMENT a ANY>]>",
        '<!DOCTYPE a [<!NOTATION n SYSTEM "x">]>',
        '<!DOCTYPE a [<!-- c --><!ATTLIST a xmlns:x CDATA "urn:x">]>',
    ],
)
def test_doctype_with_declarations_is_refused(doctype: str) -> None:
    root = "ClinicalDocument" if "ClinicalDocument" in doctype else "a"
    data = f"<?xml version='1.0'?>{doctype}<{root}><id/></{root}>".encode()
    with pytest.raises(UnsafeXMLError, match="internal DTD subset"):
        parse_xml(data)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_refused_in_every_encoding(codec: str) -> None:
    text = f'<?xml version="1.0" encoding="{codec.upper()}"?>{NAMESPACE_DEFAULT}'
    data = (text + "<ClinicalDocument/>").encode(codec)
    with pytest.raises(UnsafeXMLError):
        parse_xml(data)


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE a><a/>",
        b"<!DOCTYPE a []><a/>",
        b"<a><![CDATA[<!DOCTYPE x [<!ATTLIST x y CDATA 'z'>]>]]></a>",
        b"<a>&lt;!DOCTYPE x [</a>",
    ],
    ids=["bare-doctype", "empty-subset", "cdata-mentioning-a-subset", "escaped-text"],
)
def test_declaration_free_documents_still_parse(data: bytes) -> None:
    assert parse_xml_document(data).getroot().tag == "a"


@given(st.text(alphabet="ab<>[]!- ", max_size=30))
def test_attribute_defaults_never_reach_the_tree(subset: str) -> None:
    data = f'<!DOCTYPE a [<!ATTLIST a b CDATA "x">{subset}]><a/>'.encode()
    try:
        root = parse_xml(data)
    except UnsafeXMLError:
        return
    assert "b" not in root.attrib


def _kit_example() -> bytes:
    example = KIT / "ExemplesCDA" / "VAC_2023.01.xml"
    if not example.is_file():
        pytest.skip(f"the ANS CDA test kit is not at {KIT}")
    return example.read_bytes()


def _without_namespace(data: bytes, doctype: str = "") -> bytes:
    start = data.index(b"<ClinicalDocument")
    end = data.index(b">", start)
    root = data[start:end].replace(f' xmlns="{HL7}"'.encode(), b"")
    assert b'xmlns="' not in root
    return data[:start] + doctype.encode() + root + data[end:]


def _validate(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    args = ["cda", "validate", "--no-schematron", "--kit", str(KIT), str(path)]
    return CliRunner().invoke(cli, args)


def test_cda_validate_refuses_a_namespace_given_by_a_dtd_default(tmp_path: Path) -> None:
    data = _kit_example()
    assert _validate(tmp_path, "original.xml", data).exit_code == 0
    attack = _without_namespace(data, NAMESPACE_DEFAULT + "\n")
    assert b'xmlns="urn:hl7-org:v3"' not in attack
    result = _validate(tmp_path, "attack.xml", attack)
    assert result.exit_code == 1, result.output
    assert "INVALID" in result.output and "internal DTD subset" in result.output
    assert "Traceback" not in result.output


def _soap_without_namespaces(payload: str, elements: list[str], ns: str) -> bytes:
    declarations = "".join(f'<!ATTLIST {name} xmlns CDATA "{ns}">' for name in elements)
    return f"<!DOCTYPE Envelope [{declarations}]>{payload}".encode()


def test_insi_answer_with_namespace_defaults_is_a_protocol_error() -> None:
    from segur_ins.insi.errors import InsiProtocolError
    from segur_ins.insi.response import parse_response

    data = _soap_without_namespaces(
        "<Envelope><Body><Fault><Code><Value>Sender</Value></Code>"
        "<Reason><Text>x</Text></Reason></Fault></Body></Envelope>",
        ["Envelope", "Body", "Fault", "Code", "Value", "Reason", "Text"],
        SOAP,
    )
    with pytest.raises(InsiProtocolError, match="internal DTD subset"):
        parse_response(data, status_code=200)


def test_dmp_answer_with_namespace_defaults_is_refused() -> None:
    from segur_dmp.soap import parse_envelope

    data = _soap_without_namespaces(
        "<Envelope><Body><Answer/></Body></Envelope>", ["Envelope", "Body"], SOAP
    )
    with pytest.raises(UnsafeXMLError, match="internal DTD subset"):
        parse_envelope(data)
