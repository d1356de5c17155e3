"""A new version of a document (CDA ``relatedDocument`` RPLC) replaces the previous one
in the DMP: ITI-41 with an RPLC association, the previous entry deprecated."""

from __future__ import annotations

import uuid

import pytest
from segur_dmp.ns import UUID
from segur_dmp.service import service_for
from segur_dmp.testing import fresh_copy, kit_example, kit_patient, vaccination_note

from segur_core.model import Consent


@pytest.fixture
def runtime(make_segur_runtime):
    return make_segur_runtime(autoload=True, plugins=["ins", "dmp"])


def _new_version(previous_uid: str) -> tuple[str, bytes]:
    uid, cda = fresh_copy(kit_example("VAC-NOTE_2023.01.xml"))
    rplc = (
        f'<relatedDocument typeCode="RPLC"><parentDocument><id root="{previous_uid}"/>'
        "</parentDocument></relatedDocument>\n  <componentOf>"
    )
    cda = cda.replace(b"<componentOf>", rplc.encode(), 1)
    return uid, cda.replace(b'<versionNumber value="1" />', b'<versionNumber value="2" />', 1)


def test_new_version_replaces_the_previous_one(runtime):
    p = runtime.host.save_patient(
        kit_patient(f"P{uuid.uuid4().hex[:8]}", first_names=("DOMINIQUE", "MARIE-LOUISE"))
    )
    runtime.host.record_consent(Consent(p.id, "dmp-access", True))
    v1 = vaccination_note(p.id, *fresh_copy(kit_example("VAC-NOTE_2023.01.xml")))
    runtime.document_validated(v1, p)
    assert runtime.outbox.run_until_idle(timeout=30)
    service = service_for(runtime)
    assert [e.unique_id for e in service.list(p.id)] == [v1.id]  # access granted (TD0.3)

    v2 = vaccination_note(p.id, *_new_version(v1.id))
    runtime.document_validated(v2, p)
    assert runtime.outbox.run_until_idle(timeout=30)
    assert runtime.outbox.find(v2.id).state == "delivered"
    registry = runtime.sandbox("dmp").registry
    assert registry.find_by_unique_id(v1.id).status == UUID.DEPRECATED
    assert registry.find_by_unique_id(v2.id).status == UUID.APPROVED
    assert [e.unique_id for e in service.list(p.id)] == [v2.id]


def test_replacing_a_document_absent_from_the_dmp_feeds_it_as_new(runtime):
    p = runtime.host.save_patient(kit_patient(f"P{uuid.uuid4().hex[:8]}"))
    runtime.host.record_consent(Consent(p.id, "dmp-access", True))
    service_for(runtime).ensure_access(p.id)
    v2 = vaccination_note(p.id, *_new_version("2.25.12345"))
    runtime.document_validated(v2, p)
    assert runtime.outbox.run_until_idle(timeout=30)
    assert runtime.outbox.find(v2.id).state == "delivered"
    assert runtime.sandbox("dmp").registry.find_by_unique_id(v2.id).status == UUID.APPROVED


def test_sandbox_checks_the_replaced_entry(pki, client, dmp):
    from segur_dmp.connection import structure_credential
    from segur_dmp.errors import RegistryError
    from segur_dmp.testing import KIT_CX, KIT_INS, make_client

    from segur_core.model import Structure
    from segur_core.xds.metadata import entry_from_cda

    uid, cda = fresh_copy(kit_example("VAC-NOTE_2023.01.xml"))
    client.provide_and_register(KIT_INS, cda, entry_from_cda(cda, patient_id=KIT_CX))
    old = dmp.registry.find_by_unique_id(uid)

    def feed(c, target: str) -> str:
        new_uid, new = _new_version(uid)
        with pytest.raises(RegistryError) as info:
            c.provide_and_register(
                KIT_INS, new, entry_from_cda(new, patient_id=KIT_CX), replaces=target
            )
        assert dmp.registry.find_by_unique_id(new_uid) is None
        return info.value.code

    assert feed(client, f"urn:uuid:{uuid.uuid4()}") == "UnresolvedReferenceException"
    other = Structure(finess="999990021", name="AUTRE PHARMACIE")
    with make_client(pki, structure_credential(pki, other), dmp.url, structure=other) as stranger:
        assert feed(stranger, old.entry_uuid) == "DMPNotOwner"
    new_uid, new = _new_version(uid)
    entry = entry_from_cda(new, patient_id=KIT_CX)
    client.provide_and_register(KIT_INS, new, entry, replaces=old.entry_uuid)
    assert dmp.registry.find_by_unique_id(uid).status == UUID.DEPRECATED
    assert dmp.registry.find_by_unique_id(new_uid).status == UUID.APPROVED
    assert feed(client, old.entry_uuid) == "XDSRegistryMetadataError"  # already replaced
