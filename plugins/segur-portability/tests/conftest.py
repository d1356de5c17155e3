"""Fixtures of the segur-portability tests: a reference host holding patients with
documents built by segur-documents (a structured note de vaccination with the rendering
and the XDS entry its validation keeps, an N1 compte rendu with its PDF, a PDF that is
no CDA),
dispensations, consents and journal records."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import attrs
import pytest
import segur_portability.plugin as portability_plugin

from segur_core.model import (
    INS,
    BirthDate,
    Consent,
    Dispensation,
    DocumentStatus,
    HealthDocument,
    Identity,
    IdentityStatus,
    IdentityTraits,
    Patient,
)


@pytest.fixture(scope="session")
def built_documents():
    """The CDA documents of the sample patient (built once: the PDF takes a while)."""
    from segur_documents.builders import build_entretien, build_vaccination
    from segur_documents.demo import demo_contents
    from segur_documents.testing import sample_context

    contents = demo_contents(dt.date(2024, 10, 2))
    ctx = sample_context()
    return (
        build_vaccination(contents["vaccination"], ctx).document,
        build_entretien(contents["entretien"], ctx).document,
    )


@functools.cache
def _rendering(content: bytes) -> bytes | None:
    from segur_documents.display import Renderer
    from segur_documents.testing import rendering_unavailable

    if rendering_unavailable():  # no renderings here: exports count the document missing
        return None
    return Renderer.find().pdf(content)


def keep(runtime, content: bytes) -> None:
    """Keep the rendering of the structured ``content`` in the runtime's data directory
    (rendered once for the session)."""
    from segur_documents.renderings import RenderingStore

    pdf = _rendering(content)
    if pdf is not None:
        RenderingStore.of(runtime).put(content, pdf)


def fill(runtime, built_documents) -> list[str]:
    """Three patients in the runtime's host; returns their ids."""
    from segur_documents.testing import sample_patient
    from segur_portability.entries import keep_entry

    host = runtime.host
    qualified = sample_patient(True)
    qualified = attrs.evolve(
        qualified,
        id="",
        email="patient@example.org",
        identity=attrs.evolve(
            qualified.identity,
            ins_history=(INS("279035121518990", "1.2.250.1.213.1.4.10"),),
            updated_at=dt.datetime(2024, 10, 1, 8, 0, tzinfo=dt.UTC),
        ),
    )
    first = host.save_patient(qualified)
    vaccination, entretien = built_documents
    validated = attrs.evolve(vaccination, patient_id=first.id, status=DocumentStatus.VALIDATED)
    host.store_document(validated)
    keep(runtime, vaccination.content)  # as validating it does
    keep_entry(runtime, validated)  # likewise; the received entretien has none kept
    host.store_document(
        attrs.evolve(entretien, patient_id=first.id, status=DocumentStatus.RECEIVED)
    )
    host.record_dispensation(
        Dispensation(first.id, dt.datetime(2024, 10, 2, 10, tzinfo=dt.UTC), "3400932857241",
                     "VACCIN TETANIQUE PASTEUR", quantity=1, prescription_id="EP-1")
    )  # fmt: skip
    host.record_dispensation(
        Dispensation(first.id, dt.datetime(2024, 10, 3, 10, tzinfo=dt.UTC), "3400930000000",
                     "PARACETAMOL 500 mg", quantity=2)
    )  # fmt: skip
    host.record_consent(Consent(first.id, "dmp-access", True, recorded_by="pharmacien"))
    host.record_consent(Consent(first.id, "dp", False, note="refuses the DP"))
    runtime.journal.record("ins.verify", service="insi", patient_id=first.id)

    second = host.save_patient(
        Patient(
            "",
            Identity(
                IdentityTraits("MARTIN", ("Léa",), "F", BirthDate(1990, 5, 0), None),
                status=IdentityStatus.PROVISIONAL,
            ),
        )
    )
    host.store_document(
        HealthDocument(
            id="1.2.3.4.5^scan-1",
            patient_id=second.id,
            type_code="11502-2",
            title="Ordonnance scannée",
            content=b"%PDF-1.4\n% a scanned prescription\n%%EOF\n",
            media_type="application/pdf",
            created_at=dt.datetime(2024, 9, 1, 12, tzinfo=dt.UTC),
        )
    )
    third = host.save_patient(
        Patient("", Identity(IdentityTraits("DURAND", ("Paul",), "M", BirthDate(1950, 1, 1))))
    )
    runtime.journal.record("portability.test", details={"about": "no patient"})
    return [first.id, second.id, third.id]


@pytest.fixture
def make_runtime(make_segur_runtime):
    def make():
        return make_segur_runtime(extra_plugins=[portability_plugin])

    return make


@pytest.fixture
def source(make_runtime, built_documents):
    runtime = make_runtime()
    ids = fill(runtime, built_documents)
    return runtime, ids


@pytest.fixture
def exported(source, tmp_path: Path):
    """The source runtime, its patient ids and its archive."""
    from segur_portability.signing import signer_for
    from segur_portability.writer import export_archive

    runtime, ids = source
    result = export_archive(
        runtime, tmp_path / "out", signer=signer_for(runtime), source_id="1.2.3.999"
    )
    return runtime, ids, result
