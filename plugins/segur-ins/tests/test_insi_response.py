"""INSi answers: the CNDA responses, the sandbox's answers and faults, and garbage."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from segur_ins.insi import (
    CR_MULTIPLE,
    CR_NOT_FOUND,
    CR_OK,
    InsiAccessDenied,
    InsiError,
    InsiFault,
    InsiProtocolError,
    InsiTechnicalError,
    InsiUnavailable,
    InsiUnknownSoftware,
    parse_response,
)
from segur_ins.sandbox.persons import CNDA_PERSONS, generate_persons
from segur_ins.sandbox.service import SandboxFault, fault_envelope, result_envelope, resultat

from segur_core.model import INS, BirthDate, Sex

SOAP = "http://www.w3.org/2003/05/soap-envelope"


def test_cnda_cr00_with_history_out_of_xsd_order(insi_dir):
    result = parse_response((insi_dir / "fixtures" / "TEST_2.04_cas2.xml").read_bytes())
    assert result.code == CR_OK and result.label == "OK" and result.found
    identity = result.identity
    assert identity.ins == INS("109076322083489", "1.2.250.1.213.1.4.8")
    traits = identity.traits
    assert traits.birth_name == "ECETINSI"
    assert traits.first_names == ("PIERRE-ALAIN", "MURIEL", "FLORIANT")
    assert traits.first_name == "PIERRE-ALAIN"
    assert traits.sex is Sex.MALE
    assert traits.birth_date == BirthDate(2009, 7, 14)
    assert traits.birth_place == "63220"
    history = identity.history
    assert [h.ins.matricule for h in history] == ["209076322083439", "209066322012355"]
    # kept as sent, although DateDeb is after DateFin
    assert (history[0].start, history[0].end) == (dt.date(2019, 3, 1), dt.date(2019, 2, 28))
    assert (history[1].start, history[1].end) == (None, None)


def test_cnda_cr01(insi_dir):
    result = parse_response((insi_dir / "fixtures" / "REP_CR01.xml").read_bytes())
    assert (result.code, result.label, result.identity) == (
        CR_NOT_FOUND, "Aucune identite trouvee", None,
    )  # fmt: skip
    assert not result.found


def test_sandbox_answers_validate_against_the_resultat_xsd(insi_dir):
    parser = etree.XMLParser(no_network=True)
    xsd = insi_dir / "wsdl" / "xsd" / "ServiceIdentiteCertifiee" / "INSi_RESULTAT_INS.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd), parser))
    for found in ([], [CNDA_PERSONS[3]], CNDA_PERSONS[1:3]):
        element = resultat(list(found))
        assert schema.validate(etree.ElementTree(element)), str(schema.error_log)


def test_sandbox_fault_detail_matches_the_fault_schema(insi_dir):
    parser = etree.XMLParser(no_network=True)
    xsd = insi_dir / "wsdl" / "xsd" / "schema_faultSOAP_V01_01.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd), parser))
    root = etree.fromstring(fault_envelope(SandboxFault("siram_100", "desir_550", "inconnu")))
    erreur = root.find(f".//{{{SOAP}}}Detail/{{urn:siram}}Erreur")
    erreur.set("severite", "fatale")  # the XSD spelling; the service really sends "fatal"
    assert schema.validate(etree.ElementTree(etree.fromstring(etree.tostring(erreur))))


@pytest.mark.parametrize("person", CNDA_PERSONS, ids=lambda p: p.birth_name)
def test_every_cnda_person_round_trips(person):
    result = parse_response(result_envelope([person], "rechercherInsAvecTraitsIdentite", "m1"))
    assert result.identity.ins == person.ins()  # HERMANN's key does not check: kept
    assert result.identity.traits == person.traits()
    assert result.message_id == "m1"


def test_several_identities():
    answer = result_envelope(list(CNDA_PERSONS[1:3]), "rechercherInsAvecCarteVitale", None)
    result = parse_response(answer)
    assert (result.code, result.label, result.identity) == (
        CR_MULTIPLE, "Plusieurs identites trouvees", None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("subcode", "code", "sender", "error", "transient"),
    [
        ("siram_100", "desir_550", True, InsiUnknownSoftware, False),
        ("siram_100", "DESIR_560", True, InsiAccessDenied, False),
        ("siram_40", "insi_102", False, InsiTechnicalError, True),
        ("siram_99", "other_1", True, InsiFault, False),
        ("siram_99", "other_2", False, InsiFault, True),
    ],
)
def test_faults_become_typed_errors(subcode, code, sender, error, transient):
    payload = fault_envelope(SandboxFault(subcode, code, "motif", sender=sender))
    with pytest.raises(error) as caught:
        parse_response(payload, status_code=500)
    assert type(caught.value) is error
    assert caught.value.code == code and caught.value.subcode == subcode
    assert caught.value.service == "insi" and caught.value.transient is transient
    assert caught.value.severity == "fatal"


def test_fault_with_detail_children():
    payload = f"""<S:Envelope xmlns:S="{SOAP}"><S:Body><S:Fault>
      <S:Code><S:Value>S:Sender</S:Value></S:Code><S:Reason><S:Text>refus</S:Text></S:Reason>
      <S:Detail><Code>desir_550</Code><Severite>erreur</Severite><Descriptif>x</Descriptif>
      </S:Detail></S:Fault></S:Body></S:Envelope>""".encode()
    with pytest.raises(InsiUnknownSoftware) as caught:
        parse_response(payload, status_code=500)
    assert caught.value.severity == "erreur"


def test_http_errors_without_soap():
    with pytest.raises(InsiUnavailable):
        parse_response(b"", status_code=503)
    with pytest.raises(InsiUnavailable):
        parse_response(b"<html>bad gateway</html>", status_code=502)
    with pytest.raises(InsiProtocolError):
        parse_response(b"<html>not found</html>", status_code=404)


@pytest.mark.parametrize(
    "body",
    [
        b"<RESULTAT/>",
        f'<S:Envelope xmlns:S="{SOAP}"/>'.encode(),
        f'<S:Envelope xmlns:S="{SOAP}"><S:Body/></S:Envelope>'.encode(),
        f'<S:Envelope xmlns:S="{SOAP}"><S:Body><RESULTAT xmlns="http://www.cnamts.fr/INSiResultat">'
        f"<CR><CodeCR>00</CodeCR></CR></RESULTAT></S:Body></S:Envelope>".encode(),
        f'<S:Envelope xmlns:S="{SOAP}"><S:Body><RESULTAT xmlns="http://www.cnamts.fr/INSiResultat">'
        f"<CR><CodeCR>07</CodeCR></CR></RESULTAT></S:Body></S:Envelope>".encode(),
        b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>',
    ],
)
def test_malformed_answers_are_protocol_errors(body):
    with pytest.raises(InsiProtocolError):
        parse_response(body)


def _mutate_answer(data: bytes, draw_text: str, index: int) -> bytes:
    root = etree.fromstring(data)
    elements = [e for e in root.iter() if isinstance(e.tag, str) and len(e) == 0]
    elements[index % len(elements)].text = draw_text
    return etree.tostring(root)


@given(st.binary(max_size=400), st.integers(100, 599))
def test_garbage_raises_only_typed_errors(data, status):
    with contextlib.suppress(InsiError):
        parse_response(data, status_code=status)


@given(
    st.sampled_from(list(generate_persons(20, seed=7)) + list(CNDA_PERSONS)),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
        max_size=30,
    ),
    st.integers(0, 50),
)
def test_corrupted_answers_parse_or_raise_typed_errors(person, text, index):
    answer = result_envelope([person], "rechercherInsAvecTraitsIdentite", "m")
    data = _mutate_answer(answer, text, index)
    try:
        result = parse_response(data)
    except InsiError:
        return
    assert result.code in (CR_OK, CR_NOT_FOUND, CR_MULTIPLE)
    if result.found:
        assert len(result.identity.ins.matricule) == 15
