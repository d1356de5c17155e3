"""An INS with a wrong key (CNDA "clé erronée", served by the INSi sandbox) never reaches a
CDA nor the DMP: before, an appli carte Vitale reading made HERMANN QUAL, his INS went
into the document's recordTarget and the document was queued for the DMP."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

segur_ins_status = pytest.importorskip("segur_ins.status")
pytest.importorskip("segur_documents")
pytest.importorskip("segur_dmp")

from segur_dmp.service import FEED_KIND, service_for  # noqa: E402
from segur_documents import NO_INS_WARNING, DocumentService, Vaccination, Vaccine  # noqa: E402
from segur_ins.sandbox.persons import CNDA_PERSONS  # noqa: E402

from segur_core.model import (  # noqa: E402
    CardReading,
    DocumentStatus,
    Identity,
    IdentityStatus,
    Patient,
)

HERMANN = next(p for p in CNDA_PERSONS if p.birth_name == "HERMANN")
VACCINE = Vaccine(
    "68747507", "VACCIN TETANIQUE PASTEUR", "J07AM", "vaccins tétaniques", "3400932857241"
)


@pytest.fixture
def runtime(make_segur_runtime):
    rt = make_segur_runtime(autoload=True, plugins=["ins", "documents", "dmp"])
    yield rt
    service_for(rt).close()


def _draft_and_validate(runtime, patient):
    documents = DocumentService(runtime)
    draft = documents.draft(patient, Vaccination(VACCINE, "4456672", dt.date(2024, 10, 2)))
    document = attrs.evolve(draft.document, status=DocumentStatus.VALIDATED)
    runtime.document_validated(document, patient)
    return draft, document


def _assert_never_shared(runtime, patient):
    assert runtime.shareable_ins(patient) is None
    draft, document = _draft_and_validate(runtime, patient)
    assert HERMANN.nir.encode() not in draft.xml  # no INS in the CDA
    assert NO_INS_WARNING in draft.warnings
    assert runtime.outbox.find(document.id) is None  # never queued for the DMP
    assert not [d for d in runtime.outbox.list() if d.kind == FEED_KIND]


def test_appli_carte_vitale_reading_with_a_wrong_key_never_reaches_cda_or_dmp(runtime):
    reading = CardReading(source="apcv", traits=HERMANN.traits(), nir=HERMANN.nir)
    runtime.card_read(reading)
    (patient,) = runtime.host.find_patients(birth_name="HERMANN")
    assert patient.identity.status is not IdentityStatus.QUALIFIED
    assert patient.identity.ins is None
    _assert_never_shared(runtime, patient)


def test_a_stored_qual_identity_with_a_wrong_key_never_reaches_cda_or_dmp(runtime):
    identity = Identity(HERMANN.traits(), IdentityStatus.QUALIFIED, HERMANN.ins())
    patient = runtime.host.save_patient(Patient(id="", identity=identity))
    _assert_never_shared(runtime, patient)
