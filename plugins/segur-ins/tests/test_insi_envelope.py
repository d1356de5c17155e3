"""Every request the INSi client builds validates against the official XSDs.

The WSDL imports WS-Addressing from a remote URL, so each message part is validated
against its own official schema (body, ContexteLPS, ContexteBAM, wsse:Security with the
SAML assertion), and the WS-Addressing headers against a tiny local schema written here.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from segur_ins.insi import (
    ACTION_TRAITS,
    ACTION_VITALE,
    NS,
    PSAssertionData,
    SoftwareContext,
    TraitsQuery,
    VitaleQuery,
    build_envelope,
    build_ps_assertion,
    traits_query,
    vitale_query,
)
from segur_ins.sandbox.persons import CNDA_PERSONS

from segur_core.model import BirthDate, CardReading, IdentityTraits
from segur_core.wire import KeySigner

SOFTWARE = SoftwareContext(idam="SEGUR-CNDA-0001", emitter="750000010")

WSA_XSD = b"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    targetNamespace="http://www.w3.org/2005/08/addressing"
    xmlns:wsa="http://www.w3.org/2005/08/addressing" elementFormDefault="qualified">
  <xs:complexType name="AttributedURIType">
    <xs:simpleContent>
      <xs:extension base="xs:anyURI"><xs:anyAttribute namespace="##other"/></xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:element name="MessageID" type="wsa:AttributedURIType"/>
  <xs:element name="Action" type="wsa:AttributedURIType"/>
</xs:schema>"""


def _schema(insi_dir, relative: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(insi_dir / "wsdl" / "xsd" / relative), parser))


@pytest.fixture(scope="module")
def schemas(insi_dir):
    wsa = etree.XMLSchema(etree.fromstring(WSA_XSD))
    return {
        f"{{{NS['recsans']}}}RECSANSVITALE": _schema(
            insi_dir, "ServiceIdentiteCertifiee/INSi_RECSANS_INS.xsd"
        ),
        f"{{{NS['recvit']}}}RECVITALE": _schema(
            insi_dir, "ServiceIdentiteCertifiee/INSi_RECVITALE_INS.xsd"
        ),
        f"{{{NS['ctxlps']}}}ContexteLPS": _schema(insi_dir, "CTX/ROOT_ctxlps_CTXLPS_V01_00.xsd"),
        f"{{{NS['ctxbam']}}}ContexteBAM": _schema(insi_dir, "CTX/ROOT_ctxbam_CTXBAM_V01_02.xsd"),
        f"{{{NS['wsse']}}}Security": _schema(insi_dir, "WSSE/Security.xsd"),
        f"{{{NS['wsa']}}}MessageID": wsa,
        f"{{{NS['wsa']}}}Action": wsa,
    }


def _validate(schemas, content: bytes) -> etree._Element:
    """Validate every header and the body part; return the envelope."""
    root = etree.fromstring(content)
    assert root.tag == f"{{{NS['soap']}}}Envelope"
    header, body = list(root)
    assert header.tag == f"{{{NS['soap']}}}Header"
    assert body.tag == f"{{{NS['soap']}}}Body" and len(body) == 1
    for part in [*header, body[0]]:
        schema = schemas[part.tag]
        document = etree.ElementTree(etree.fromstring(etree.tostring(part)))
        assert schema.validate(document), (part.tag, str(schema.error_log))
    return root


def test_traits_request_validates(schemas):
    query = traits_query(CNDA_PERSONS[3].traits())
    envelope = build_envelope(query, SOFTWARE)
    root = _validate(schemas, envelope.content)
    assert envelope.operation == "rechercherInsAvecTraitsIdentite"
    assert root.findtext(".//wsa:Action", namespaces=NS) == ACTION_TRAITS == envelope.action
    assert re.fullmatch(r"uuid:[0-9a-f-]{36}", root.findtext(".//wsa:MessageID", namespaces=NS))
    body = root.find(".//recsans:RECSANSVITALE", NS)
    assert [e.text for e in body.findall("recsans:Prenom", NS)] == [
        "PIERRE-ALAIN", "MURIEL", "FLORIANT",
    ]  # fmt: skip
    assert root.find(".//wsse:Security", NS) is None  # mutual TLS: no assertion
    lps = root.find(".//ctxlps:ContexteLPS", NS)
    assert lps.get("Version") == "01_00" and lps.get("Nature") == "CTXLPS"
    assert lps.find("ctxlps:LPS/ctxlps:IDAM", NS).get("R") == "4"
    bam = root.find(".//ctxbam:ContexteBAM", NS)
    assert bam.get("Version") == "01_02"
    assert len(bam.find("ctxbam:COUVERTURE", NS)) == 0  # traits search: empty coverage


def test_vitale_request_validates(schemas):
    reading = CardReading(
        source="vitale-card",
        traits=CNDA_PERSONS[0].traits(),
        nir=CNDA_PERSONS[0].nir,
        insured_nir=CNDA_PERSONS[0].nir,
    )
    envelope = build_envelope(vitale_query(reading), SOFTWARE)
    root = _validate(schemas, envelope.content)
    assert envelope.action == ACTION_VITALE
    individu = root.find(".//recvit:RECVITALE/recvit:MatriculeIndividu", NS)
    assert individu.findtext("recvit:NumIdentifiant", namespaces=NS) == "2751263220749"
    assert individu.findtext("recvit:Cle", namespaces=NS) == "74"
    nir = root.find(".//ctxbam:COUVERTURE/ctxbam:BENEFICIAIRE/ctxbam:Nir", NS)
    assert nir.findtext("ctxbam:Num", namespaces=NS) == "2751263220749"


def test_corsican_vitale_request_validates(schemas):
    envelope = build_envelope(
        VitaleQuery(nir="297022A020778" + "78", birth_date="1997-02-26", birth_rank=1), SOFTWARE
    )
    _validate(schemas, envelope.content)


def test_cps_request_with_signed_assertion_validates(schemas, pki):
    credential = pki.client("cps")
    signer = KeySigner.from_pkcs12(credential.p12_path, credential.p12_password.encode())
    assertion = build_ps_assertion(
        PSAssertionData(holder_id="810000000009", billing_id="750000010"), signer
    )
    query = traits_query(CNDA_PERSONS[0].traits())
    envelope = build_envelope(query, SOFTWARE, assertions=[assertion])
    root = _validate(schemas, envelope.content)
    saml = root.find(".//wsse:Security/saml:Assertion", NS)
    assert saml.find("saml:Subject/saml:NameID", NS).get("NameQualifier") == "CPS"
    # the signature sits where the SAML schema wants it: right after the Issuer
    assert [etree.QName(e).localname for e in saml][:2] == ["Issuer", "Signature"]


_NAME = st.from_regex(r"[A-Z]{1,12}((-|--|'| )[A-Z]{1,8})?", fullmatch=True)


@given(
    name=_NAME,
    first_names=st.lists(_NAME, min_size=1, max_size=4),
    sex=st.sampled_from(["M", "F", None]),
    date=st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2099, 12, 31)),
    place=st.one_of(st.none(), st.from_regex(r"(\d{5}|2[AB]\d{3})", fullmatch=True)),
)
def test_any_traits_query_validates(schemas, name, first_names, sex, date, place):
    query = TraitsQuery(name, tuple(first_names), sex, date.isoformat(), place)
    _validate(schemas, build_envelope(query, SOFTWARE).content)


def test_partial_birth_date_is_sent_as_lunar_date(schemas):
    traits = IdentityTraits("ADRUN", ("ZOE",), "F", BirthDate(1975), "99100")
    envelope = build_envelope(traits_query(traits), SOFTWARE)
    root = _validate(schemas, envelope.content)
    assert root.findtext(".//recsans:DateNaissance", namespaces=NS) == "1975-00-00"


@given(st.text(min_size=1, max_size=20))
def test_any_text_is_escaped_or_refused(schemas, text):
    """Whatever a caller puts in a query, the envelope is well-formed XML carrying that
    exact text, or the value is refused with a typed error."""
    from segur_core.errors import InputError

    query = TraitsQuery(text, (text,), "M", "2000-01-01", None)
    try:
        content = build_envelope(query, SOFTWARE).content
    except InputError:
        return
    root = etree.fromstring(content)
    assert root.findtext(".//recsans:NomNaissance", namespaces=NS) == text
