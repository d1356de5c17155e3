"""Helpers for tests of segur-dmp and of plugins that use it (sandbox DMP, kit examples)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from segur_core.model import (
    INS,
    BirthDate,
    DocumentStatus,
    HealthDocument,
    Identity,
    IdentityStatus,
    IdentityTraits,
    Patient,
    Practitioner,
    Sex,
    Structure,
)
from segur_core.reference import CISIS_KIT, find_reference
from segur_core.tls import client_context

__all__ = [
    "KIT_CX",
    "KIT_DOCUMENT_ID",
    "KIT_INS",
    "PHARMACIST",
    "STRUCTURE",
    "fresh_copy",
    "kit_example",
    "kit_patient",
    "make_client",
    "vaccination_note",
]

#: The CI-SIS kit as segur finds it (``$SEGUR_CISIS_KIT``, a data package, ``../shared``
#: beside a checkout); a folder that does not exist when there is none.
KIT = find_reference(CISIS_KIT) or Path("/nonexistent/TestContenuCDA-3-0")
EXAMPLES = KIT / "ExemplesCDA"
#: The INS of the kit examples' patient (test NIR OID).
KIT_INS = INS("279035121518989", "1.2.250.1.213.1.4.10")
KIT_CX = "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
#: The document id of the kit's ``VAC-NOTE_2023.01.xml``, replaced by :func:`fresh_copy`.
KIT_DOCUMENT_ID = b'<id root="1.2.250.1.213.1.1.1.46.2023.1.1"/>'

STRUCTURE = Structure(finess="999990013", name="PHARMACIE DU SANDBOX")
PHARMACIST = Practitioner(
    rpps="10999900003", family_name="TEST", given_name="Claire", specialty="G15_21/A"
)


def kit_example(name: str) -> bytes:
    """A CDA example of the ANS kit; skips the calling test when the kit is absent."""
    import pytest

    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"the ANS CDA kit example {name} is not in ../shared/cisis")
    return path.read_bytes()


def make_client(pki: Any, credential: Any, url: str, *, structure=STRUCTURE, timeout=10.0):
    """A DMP client for ``structure`` with a test PKI credential."""
    from segur_dmp.client import DMPClient, Endpoints
    from segur_dmp.vihf import StructureSigner

    return DMPClient(
        endpoints=Endpoints(url),
        ssl_context=client_context(
            ca_bundle=pki.ca_bundle, cert=credential.cert_path, key=credential.key_path
        ),
        signer=StructureSigner.from_files(str(credential.key_path), str(credential.cert_path)),
        structure=structure,
        practitioner=PHARMACIST,
        timeout=timeout,
    )


def fresh_copy(template: bytes) -> tuple[str, bytes]:
    """``(unique id, CDA)``: the kit example ``template`` under a new unique document id,
    so that the DMP takes it as a new document."""
    uid = f"2.25.{uuid.uuid4().int}"
    return uid, template.replace(KIT_DOCUMENT_ID, f'<id root="{uid}"/>'.encode())


def kit_patient(
    patient_id: str,
    *,
    status: IdentityStatus = IdentityStatus.QUALIFIED,
    first_names: tuple[str, ...] = ("DOMINIQUE",),
    birth_place: str | None = "63220",
) -> Patient:
    """The patient of the kit examples (PAT-TROIS, INS :data:`KIT_INS`)."""
    traits = IdentityTraits(
        "PAT-TROIS", first_names, Sex.FEMALE, BirthDate(1979, 3, 28), birth_place
    )
    return Patient(patient_id, Identity(traits, status, KIT_INS))


def vaccination_note(
    patient_id: str, uid: str, cda: bytes, *, title: str = "NOTE DE VACCINATION"
) -> HealthDocument:
    """A validated note de vaccination (LOINC 87273-9) of ``patient_id``, ready to feed."""
    return HealthDocument(
        id=uid,
        patient_id=patient_id,
        type_code="87273-9",
        title=title,
        content=cda,
        status=DocumentStatus.VALIDATED,
    )
