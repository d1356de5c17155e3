"""The automatic feed through the outbox, and the DMP rules, on a real runtime (reference
host, segur-ins deciding which INS is shareable, the sandbox DMP over mutual TLS)."""

from __future__ import annotations

import uuid

import pytest
from segur_dmp.errors import AccessRefused
from segur_dmp.service import FEED_KIND, service_for
from segur_dmp.testing import KIT_INS, fresh_copy, kit_example, kit_patient, vaccination_note

from segur_core.model import Consent, DocumentStatus, HealthDocument, IdentityStatus, Patient


def patient(status: IdentityStatus = IdentityStatus.QUALIFIED, pid: str | None = None) -> Patient:
    return kit_patient(
        pid or f"P{uuid.uuid4().hex[:8]}", status=status,
        first_names=("DOMINIQUE", "MARIE-LOUISE"),
    )  # fmt: skip


def document(p: Patient) -> HealthDocument:
    return vaccination_note(p.id, *fresh_copy(kit_example("VAC-NOTE_2023.01.xml")))


@pytest.fixture
def runtime(make_segur_runtime):
    return make_segur_runtime(autoload=True, plugins=["ins", "dmp"])


def test_validated_document_reaches_the_dmp_once(runtime):
    p = runtime.host.save_patient(patient())
    doc = document(p)
    runtime.document_validated(doc, p)
    runtime.document_validated(doc, p)  # validated twice: still one delivery
    items = [d for d in runtime.outbox.list() if d.kind == FEED_KIND]
    assert len(items) == 1 and items[0].key == doc.id
    assert service_for(runtime).status.get(doc.id).state == "queued"
    assert runtime.outbox.run_until_idle(timeout=30)
    assert runtime.outbox.find(doc.id).state == "delivered"
    assert service_for(runtime).status.get(doc.id).state == "in-dmp"
    registry = runtime.sandbox("dmp").registry
    assert registry.find_by_unique_id(doc.id).content == doc.content
    actions = [r.action for r in runtime.journal.records()]
    assert "dmp.feed-queued" in actions and "dmp.feed" in actions


def test_unqualified_identity_is_never_sent(runtime):
    p = runtime.host.save_patient(patient(IdentityStatus.RECOVERED))
    doc = document(p)
    runtime.document_validated(doc, p)
    assert runtime.outbox.find(doc.id) is None
    with pytest.raises(AccessRefused) as info:
        service_for(runtime).list(p.id)
    assert info.value.status == "NO_INS" and "qualif" in info.value.hint


def test_consultation_runs_the_access_check_and_needs_consent(runtime):
    p = runtime.host.save_patient(patient())
    service = service_for(runtime)
    with pytest.raises(AccessRefused) as info:
        service.list(p.id)
    assert info.value.status == "NO_CONSENT" and "consent" in str(info.value)
    runtime.host.record_consent(Consent(p.id, "dmp-access", True, recorded_by="test"))
    doc = document(p)
    runtime.document_validated(doc, p)
    assert runtime.outbox.run_until_idle(timeout=30)
    listed = service.list(p.id)
    assert doc.id in {e.unique_id for e in listed}
    assert all(e.class_code.code != "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1" for e in listed)
    assert service.get(p.id, doc.id) == doc.content
    service.set_masked(p.id, doc.id, True)
    assert service.status.get(doc.id).state == "masked"
    service.set_masked(p.id, doc.id, False)
    service.delete(p.id, doc.id)
    assert doc.id not in {e.unique_id for e in service.list(p.id)}
    with pytest.raises(AccessRefused) as info:
        service.delete(p.id, "2.25.1")  # not one of ours
    assert info.value.status == "NOT_OWNER"


def test_blocked_access_tells_why(runtime):
    p = runtime.host.save_patient(patient())
    runtime.host.record_consent(Consent(p.id, "dmp-access", True))
    from segur_core.xds.metadata import cx

    structure = runtime.host.structure()
    runtime.sandbox("dmp").registry.set_authorization(
        cx(KIT_INS.matricule, KIT_INS.oid), structure.idnst, "INTERDIT", "opposition"
    )
    with pytest.raises(AccessRefused) as info:
        service_for(runtime).list(p.id)
    assert info.value.status == "INTERDIT" and "blocked" in str(info.value)


def test_refused_document_is_dead_and_shown_failed(runtime):
    if "healthcareFacilityTypeCode" not in runtime.sandbox("dmp").app.value_sets.checked:
        pytest.skip("the kit value sets are not in ../shared/cisis")
    p = runtime.host.save_patient(patient())
    good = document(p)
    bad_cda = good.content.replace(b'code="SA07"', b'code="SA999"')
    assert bad_cda != good.content
    bad = HealthDocument(
        id=good.id,
        patient_id=p.id,
        type_code="87273-9",
        title="X",
        content=bad_cda,
        status=DocumentStatus.VALIDATED,
    )
    runtime.document_validated(bad, p)
    assert runtime.outbox.run_until_idle(timeout=30)
    delivery = runtime.outbox.find(bad.id)
    assert delivery.state == "dead" and "XDSRegistryMetadataError" in delivery.last_error
    row = service_for(runtime).status.get(bad.id)
    assert row.state == "failed" and "SA999" in row.detail
    assert runtime.sandbox("dmp").registry.find_by_unique_id(bad.id) is None


def test_access_check_when_the_identity_is_qualified(runtime):
    qualified = runtime.host.save_patient(patient())
    runtime.patient_identified(qualified, qualified.identity, "insi")
    status = service_for(runtime).last_access(qualified.id)
    assert status is not None and status.exists and status.authorization == "NON_EXISTE"
    recovered = runtime.host.save_patient(patient(IdentityStatus.RECOVERED))
    runtime.patient_identified(recovered, recovered.identity, "insi")
    assert service_for(runtime).last_access(recovered.id) is None


def test_identity_downgraded_before_sending(runtime):
    import attrs

    p = runtime.host.save_patient(patient())
    doc = document(p)
    runtime.document_validated(doc, p)
    runtime.host.save_patient(
        attrs.evolve(p, identity=attrs.evolve(p.identity, status=IdentityStatus.PROVISIONAL))
    )
    assert runtime.outbox.run_until_idle(timeout=30)
    delivery = runtime.outbox.find(doc.id)
    assert delivery.state == "dead" and "no longer qualified" in delivery.last_error
    assert runtime.sandbox("dmp").registry.find_by_unique_id(doc.id) is None
