"""Client ↔ sandbox over real mutual TLS: both operations, CR 00/01/02, CPS mode and faults."""

from __future__ import annotations

import pytest
from lxml import etree
from segur_ins.insi import (
    CR_MULTIPLE,
    CR_NOT_FOUND,
    CR_OK,
    CpsCredentials,
    InsiAccessDenied,
    InsiError,
    InsiUnavailable,
    InsiUnknownSoftware,
    PSAssertionData,
    traits_query,
)
from segur_ins.sandbox.persons import CNDA_PERSONS, Person

from segur_core.model import BirthDate, CardReading, IdentityTraits
from segur_core.wire import KeySigner

ADRUN, ECETINSI, HERMANN, NIA = CNDA_PERSONS[0], CNDA_PERSONS[3], CNDA_PERSONS[5], CNDA_PERSONS[6]


@pytest.mark.parametrize("person", CNDA_PERSONS, ids=lambda p: p.birth_name + p.first_names[:3])
def test_traits_search_finds_every_cnda_person(make_client, person):
    result = make_client().lookup_traits(person.traits())
    assert result.code == CR_OK
    assert result.identity.ins == person.ins()
    assert result.identity.traits == person.traits()
    assert result.message_id.startswith("uuid:")


def test_first_name_strategy_tries_each_first_name(make_client, sandbox):
    # FLORIANTE (normalised from "Florianté") is not one of his first names: CR 01, then
    # PIERRE-ALAIN alone finds him; the search stops there (no third request).
    traits = IdentityTraits("ECETINSI", ("Florianté", "Pierre-Alain"), "M", BirthDate(2009, 7, 14))
    before = sandbox.service.requests
    result = make_client().lookup_traits(traits)
    assert result.code == CR_OK and result.identity.ins == ECETINSI.ins()
    assert sandbox.service.requests - before == 2 == result.attempts


def test_first_name_strategy_ends_with_the_last_answer(make_client, sandbox):
    traits = IdentityTraits("ECETINSI", ("PAUL", "JACQUES"), "M", BirthDate(2009, 7, 14))
    before = sandbox.service.requests
    result = make_client().lookup_traits(traits)
    assert result.code == CR_NOT_FOUND
    assert sandbox.service.requests - before == 3 == result.attempts  # PAUL, JACQUES, both


def test_vitale_search_by_nir_and_by_former_ins(make_client):
    client = make_client()
    reading = CardReading(source="vitale-card", traits=ADRUN.traits(), nir=ADRUN.nir)
    assert client.lookup_reading(reading).identity.ins == ADRUN.ins()
    former = ECETINSI.history[0][0] + ECETINSI.history[0][1]
    reading = CardReading(source="vitale-card", traits=ECETINSI.traits(), nir=former)
    result = client.lookup_reading(reading)
    assert result.identity.ins == ECETINSI.ins()  # the active INS, not the card's
    assert result.identity.history[0].ins.matricule == former


def test_nia_person(make_client):
    result = make_client().lookup_traits(NIA.traits())
    assert result.identity.ins.oid == "1.2.250.1.213.1.4.9"


def test_cr01_nobody(make_client):
    traits = IdentityTraits("TCHITCHI", ("OLA",), "F", BirthDate(1936, 6, 21))
    result = make_client().lookup_traits(traits)
    assert (result.code, result.identity) == (CR_NOT_FOUND, None)


def test_cr02_several(make_client, sandbox):
    twins = [
        Person("JUMEAU", "CAMILLE", "F", "2001-05-05", "63220", "2010563220123", "49"),
        Person("JUMEAU", "CAMILLE", "F", "2001-05-05", "63220", "2010563220124", "18"),
    ]
    sandbox.add_persons(twins)
    result = make_client().lookup_traits(twins[0].traits())
    assert (result.code, result.identity) == (CR_MULTIPLE, None)


def test_wrong_certificate_cn_is_refused(make_client):
    with pytest.raises(InsiAccessDenied) as caught:
        make_client("structure").lookup_traits(ADRUN.traits())
    assert caught.value.code == "DESIR_560" and not caught.value.transient


def test_insi_manu_is_accepted(make_client):
    assert make_client("insi-manu").lookup_traits(ADRUN.traits()).found


def test_unknown_software_id_is_refused(make_client):
    with pytest.raises(InsiUnknownSoftware) as caught:
        make_client(idam="NOT-AUTHORISED").lookup_traits(ADRUN.traits())
    assert (caught.value.code, caught.value.subcode) == ("desir_550", "siram_100")


def test_certificate_from_another_ca_fails_the_handshake(make_client):
    with pytest.raises(InsiError) as caught:
        make_client("foreign", retries=0).lookup_traits(ADRUN.traits())
    assert isinstance(caught.value, InsiError)


def test_5xx_is_retried(make_client, sandbox):
    sandbox.faults.fail_next(2, status=503)
    assert make_client(retries=2).lookup_traits(ADRUN.traits()).found
    assert sandbox.faults.counts["error"] >= 2


def test_persistent_5xx_is_a_transient_error(make_client, sandbox):
    sandbox.faults.fail_next(2, status=502)
    with pytest.raises(InsiUnavailable) as caught:
        make_client(retries=1).lookup_traits(ADRUN.traits())
    assert caught.value.transient and caught.value.code == "http_502"


def test_technical_fault_is_retried(make_client, sandbox):
    sandbox.technical_fault_next(1)
    assert make_client(retries=1).lookup_traits(ADRUN.traits()).found


def test_technical_fault_without_retry(make_client, sandbox):
    sandbox.technical_fault_next(1)
    with pytest.raises(InsiError) as caught:
        make_client(retries=0).lookup_traits(ADRUN.traits())
    assert caught.value.code == "insi_102" and caught.value.transient


def test_timeout(make_client, sandbox):
    sandbox.faults.hang_next(1, seconds=2.0)
    with pytest.raises(InsiUnavailable) as caught:
        make_client(retries=0, timeout=0.3).lookup_traits(ADRUN.traits())
    assert caught.value.code == "timeout"


def test_timeout_then_success(make_client, sandbox):
    sandbox.faults.hang_next(1, seconds=2.0)
    assert make_client(retries=1, timeout=0.3).lookup_traits(ADRUN.traits()).found


def test_invalid_request_is_refused_by_the_sandbox_xsd_check(make_client, insi_dir):
    client = make_client()
    envelope = client.envelope(traits_query(ADRUN.traits()))
    root = etree.fromstring(envelope.content)
    lps = root.find(".//{urn:siram:lps:ctxlps}ContexteLPS")
    del lps.attrib["Version"]  # required by the ContexteLPS XSD
    bad = type(envelope)(envelope.operation, envelope.action, envelope.message_id,
                         etree.tostring(root))  # fmt: skip
    with pytest.raises(InsiError) as caught:
        client.send(bad)
    assert caught.value.code == "insi_101"


# -- CPS mode ----------------------------------------------------------------------------------


@pytest.fixture
def cps_signer(pki):
    credential = pki.client("cps")
    return KeySigner.from_pkcs12(credential.p12_path, credential.p12_password.encode())


def test_cps_mode_signed_assertion_is_verified(make_client, cps_signer, sandbox):
    data = PSAssertionData(holder_id="810000000009", billing_id="750000010")
    client = make_client("cps", cps=CpsCredentials(cps_signer, data))
    assert client.lookup_traits(ADRUN.traits()).found


def test_cps_mode_without_assertion_is_refused(make_client):
    with pytest.raises(InsiAccessDenied):
        make_client("cps").lookup_traits(ADRUN.traits())


class _TamperingSigner:
    """Signs, then changes the signed content: the sandbox must see it."""

    def __init__(self, inner):
        self.inner = inner

    @property
    def certificate(self):
        return self.inner.certificate

    def sign(self, element, **options):
        signed = self.inner.sign(element, **options)
        name_id = signed.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID")
        name_id.text = "899999999999"
        return signed


def test_cps_mode_tampered_assertion_is_refused(make_client, cps_signer):
    data = PSAssertionData(holder_id="810000000009", billing_id="750000010")
    client = make_client("cps", cps=CpsCredentials(_TamperingSigner(cps_signer), data))
    with pytest.raises(InsiAccessDenied) as caught:
        client.lookup_traits(ADRUN.traits())
    assert "signature" in caught.value.reason


def test_cps_mode_assertion_signed_by_an_unknown_ca_is_refused(make_client, pki):
    credential = pki.client("foreign")
    signer = KeySigner.from_pkcs12(credential.p12_path, credential.p12_password.encode())
    data = PSAssertionData(holder_id="810000000009", billing_id="750000010")
    with pytest.raises(InsiAccessDenied):
        make_client("cps", cps=CpsCredentials(signer, data)).lookup_traits(ADRUN.traits())


def test_answer_to_another_request_is_refused(make_client):
    import attrs

    client = make_client()
    envelope = client.envelope(traits_query(ADRUN.traits()))
    other = client.envelope(traits_query(ADRUN.traits()))
    # send the bytes of one request under the id of another: RelatesTo will not match
    with pytest.raises(InsiError) as caught:
        client.send(attrs.evolve(envelope, message_id=other.message_id))
    assert "RelatesTo" in str(caught.value)


def test_a_redirect_is_an_error_not_followed(make_client, sandbox):
    from segur_ins.insi import InsiProtocolError

    before = sandbox.faults.counts["error"]
    sandbox.faults.fail_next(1, status=302)
    with pytest.raises(InsiProtocolError) as caught:
        make_client(retries=2).lookup_traits(ADRUN.traits())
    assert not caught.value.transient
    assert sandbox.faults.counts["error"] == before + 1  # once: neither followed nor retried
