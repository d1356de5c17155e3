"""Round trips client ↔ sandbox DMP over real mutual TLS, one per transaction."""

from __future__ import annotations

import uuid

import attrs
import pytest
from segur_dmp.errors import RegistryError, SOAPFault
from segur_dmp.ns import UUID
from segur_dmp.testing import KIT_CX, KIT_INS, STRUCTURE, kit_example, make_client

from segur_core.model import INS
from segur_core.xds.metadata import entry_from_cda


def fresh_document(cda: bytes) -> tuple[bytes, str]:
    """The kit example with a new unique id (so tests do not collide)."""
    uid = f"2.25.{uuid.uuid4().int}"
    old = b'<id root="1.2.250.1.213.1.1.1.46.2023.1.1"/>'
    assert old in cda
    return cda.replace(old, f'<id root="{uid}"/>'.encode(), 1), uid


def authorise(dmp, ins: INS = KIT_INS) -> None:
    dmp.registry.set_authorization(
        f"{ins.matricule}^^^&{ins.oid}&ISO^NH", STRUCTURE.idnst, "VALIDE"
    )


def test_td02_td03_access_check_and_authorisation(client, dmp):
    ins = INS("180012B00000123"[:0] + "180017512300042", "1.2.250.1.213.1.4.10")
    status = client.test_access(ins)
    assert status.exists and not status.closed and status.authorization == "NON_EXISTE"
    client.set_authorization(ins)
    assert client.test_access(ins).authorization == "VALIDE"
    client.set_authorization(ins, add=False)
    assert client.test_access(ins).authorization == "NON_EXISTE"
    cx = f"{ins.matricule}^^^&{ins.oid}&ISO^NH"
    dmp.registry.set_authorization(cx, STRUCTURE.idnst, "INTERDIT", "opposition du patient")
    status = client.test_access(ins)
    assert status.authorization == "INTERDIT" and status.reason == "opposition du patient"
    with pytest.raises(SOAPFault):
        client.set_authorization(ins)
    dmp.registry.set_patient(cx, present=False)
    assert not client.test_access(ins).exists


def test_feed_find_get_retrieve_mask_delete(client, dmp):
    cda, uid = fresh_document(kit_example("VAC-NOTE_2023.01.xml"))
    entry = entry_from_cda(cda, patient_id=KIT_CX)
    authorise(dmp)
    ss = client.provide_and_register(KIT_INS, cda, entry)
    assert ss.unique_id.startswith("2.25.")
    stored = dmp.registry.find_by_unique_id(uid)
    assert stored is not None and stored.content == cda and stored.owner == STRUCTURE.idnst

    found = {e.unique_id: e for e in client.find_documents(KIT_INS)}
    assert uid in found
    listed = found[uid]
    assert listed.type_code.code == "87273-9" and listed.hash == entry.hash
    assert client.get_documents(KIT_INS, [uid])[0].unique_id == uid
    assert client.retrieve(KIT_INS, uid) == cda

    masked = client.set_masked(KIT_INS, listed, True)
    again = client.get_documents(KIT_INS, [uid])[0]
    assert again.masked and again.version == masked.version == "2"
    client.set_masked(KIT_INS, again, False)
    assert not client.get_documents(KIT_INS, [uid])[0].masked

    client.delete(KIT_INS, client.get_documents(KIT_INS, [uid])[0])
    assert uid not in {e.unique_id for e in client.find_documents(KIT_INS)}
    deleted = client.find_documents(KIT_INS, statuses=[UUID.DELETED])
    assert uid in {e.unique_id for e in deleted}


def test_duplicate_unique_id_is_refused_like_a_registry(client, dmp):
    cda, uid = fresh_document(kit_example("VAC-NOTE_2023.01.xml"))
    entry = entry_from_cda(cda, patient_id=KIT_CX)
    client.provide_and_register(KIT_INS, cda, entry)
    with pytest.raises(RegistryError) as info:
        client.provide_and_register(KIT_INS, cda, entry)
    assert info.value.code == "XDSDuplicateUniqueIdInRegistry"
    changed = cda.replace(b"NOTE DE VACCINATION", b"NOTE DE VACCINATION (bis)")
    with pytest.raises(RegistryError) as info:
        client.provide_and_register(KIT_INS, changed, entry_from_cda(changed, patient_id=KIT_CX))
    assert info.value.code == "XDSNonIdenticalHash"
    assert dmp.registry.find_by_unique_id(uid).content == cda


def test_consultation_needs_authorisation(client, dmp):
    ins = INS("280017512300043", "1.2.250.1.213.1.4.10")
    with pytest.raises(RegistryError) as info:
        client.find_documents(ins)
    assert info.value.code == "DMPAccessDenied" and info.value.hint


def test_metadata_outside_the_value_sets_is_refused(client, dmp):
    cda, uid = fresh_document(kit_example("VAC-NOTE_2023.01.xml"))
    entry = entry_from_cda(cda, patient_id=KIT_CX)
    if "healthcareFacilityTypeCode" not in dmp.app.value_sets.checked:
        pytest.skip("the kit value sets are not in ../shared/cisis")
    bad = attrs.evolve(
        entry, healthcare_facility=attrs.evolve(entry.healthcare_facility, code="SA999")
    )
    with pytest.raises(RegistryError) as info:
        client.provide_and_register(KIT_INS, cda, bad)
    assert info.value.code == "XDSRegistryMetadataError"
    assert dmp.registry.find_by_unique_id(uid) is None


def test_other_structure_may_not_mask_or_delete(pki, client, dmp):
    from segur_dmp.connection import structure_credential

    from segur_core.model import Structure

    cda, uid = fresh_document(kit_example("VAC-NOTE_2023.01.xml"))
    client.provide_and_register(KIT_INS, cda, entry_from_cda(cda, patient_id=KIT_CX))
    other = Structure(finess="999990021", name="AUTRE PHARMACIE")
    cred = structure_credential(pki, other)
    dmp.registry.set_authorization(KIT_CX, other.idnst, "VALIDE")
    with make_client(pki, cred, dmp.url, structure=other) as stranger:
        entry = stranger.get_documents(KIT_INS, [uid])[0]
        with pytest.raises(RegistryError) as info:
            stranger.delete(KIT_INS, entry)
        assert info.value.code == "DMPNotOwner"
        client.set_masked(KIT_INS, client.get_documents(KIT_INS, [uid])[0], True)
        assert stranger.get_documents(KIT_INS, [uid]) == []  # masked to other PS


def test_vihf_structure_must_match_tls_certificate(pki, credential, dmp):
    from segur_core.model import Structure

    liar = Structure(finess="999990039", name="USURPATEUR")
    with make_client(pki, credential, dmp.url, structure=liar) as c, pytest.raises(SOAPFault):
        c.test_access(KIT_INS)


def test_directe_mode_needs_the_card_certificate(pki, credential, dmp):
    from segur_dmp.client import DMPClient, Endpoints
    from segur_dmp.vihf import CPSSigner

    from segur_core.model import Practitioner, Structure
    from segur_core.testing.pki import CPS_RPPS, STRUCTURE_FINESS
    from segur_core.tls import client_context

    card = pki.client("cps")
    structure = Structure(finess=STRUCTURE_FINESS, name="PHARMACIE TEST SEGUR")
    pharmacist = Practitioner(CPS_RPPS, "TEST", "PHARMACIEN", specialty="G15_21/DA")

    def directe(cred) -> DMPClient:
        return DMPClient(
            endpoints=Endpoints(dmp.url),
            ssl_context=client_context(ca_bundle=pki.ca_bundle, cert=cred.cert_path,
                                       key=cred.key_path),
            signer=CPSSigner(issuer="CN=" + card.subject_cn), structure=structure,
            practitioner=pharmacist,
        )  # fmt: skip

    with directe(card) as c:
        assert c.test_access(KIT_INS).exists
    with directe(pki.client("structure")) as c, pytest.raises(SOAPFault):
        c.test_access(KIT_INS)  # unsigned VIHF without the professional's card


def test_transport_faults_are_transient_typed_errors(pki, credential, dmp):
    from segur_dmp.errors import DMPTransportError

    with make_client(pki, credential, dmp.url, timeout=0.5) as c:
        dmp.faults.fail_next(1, status=503)
        with pytest.raises(DMPTransportError) as info:
            c.test_access(KIT_INS)
        assert info.value.transient and info.value.code == "503"
        dmp.faults.reset_next(1)
        with pytest.raises(DMPTransportError) as info:
            c.test_access(KIT_INS)
        assert info.value.code == "unreachable"
        dmp.faults.hang_next(1, seconds=2.0)
        with pytest.raises(DMPTransportError) as info:
            c.test_access(KIT_INS)
        assert info.value.code == "timeout"
        dmp.faults.set_delay(0.1)  # slow but within the timeout
        assert c.test_access(KIT_INS).exists
        dmp.faults.clear()


def test_vihf_with_an_unknown_activity_sector_is_refused(pki, credential, dmp):
    if "healthcareFacilityTypeCode" not in dmp.app.value_sets.checked:
        pytest.skip("the kit value sets are not in ../shared/cisis")
    odd = attrs.evolve(STRUCTURE, activity_sector="SA999")
    with (
        make_client(pki, credential, dmp.url, structure=odd) as c,
        pytest.raises(SOAPFault) as info,
    ):
        c.test_access(KIT_INS)
    assert "Secteur_Activite" in str(info.value)
