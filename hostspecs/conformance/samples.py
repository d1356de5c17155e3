"""Sample values the conformance tests store and read back (fictitious persons)."""

from __future__ import annotations

import datetime as dt

import attrs

from segur_core.model import (
    INS,
    BirthDate,
    CheckIssue,
    Consent,
    Dispensation,
    DocumentCheck,
    HealthDocument,
    Identity,
    IdentityAttribute,
    IdentityStatus,
    IdentityTraits,
    MessagePart,
    Patient,
    ReceivedMessage,
)

T0 = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
BIRTH_DATE = BirthDate(1985, 6, 15)


def patient(
    birth_name: str = "CONFORMITE",
    first_names: tuple[str, ...] = ("ALICE", "MARIE"),
    birth_date: BirthDate = BIRTH_DATE,
    *,
    patient_id: str = "",
    qualified: bool = False,
    matricule: str = "285067512345678",
) -> Patient:
    traits = IdentityTraits(
        birth_name=birth_name,
        first_names=first_names,
        sex="F",
        birth_date=birth_date,
        birth_place="75056",
        used_name="DURAND",
    )
    identity = Identity(
        traits=traits,
        status=IdentityStatus.QUALIFIED if qualified else IdentityStatus.PROVISIONAL,
        ins=INS(matricule, "1.2.250.1.213.1.4.10") if qualified else None,
        attributes={IdentityAttribute.HOMONYM} if qualified else (),
        updated_at=T0,
    )
    return Patient(id=patient_id, identity=identity, email="alice@example.test")


def document(patient_id: str, number: int, *, created_at: dt.datetime = T0) -> HealthDocument:
    return HealthDocument(
        id=f"1.2.250.1.999.1.{number}",
        patient_id=patient_id,
        type_code="87273-9",
        title=f"Note de vaccination {number}",
        content=b"<ClinicalDocument>\x00\xff binary-safe " + str(number).encode(),
        set_id=f"1.2.250.1.999.2.{number}",
        created_at=created_at,
        author_rpps="10999900003",
    )


def received_document(patient_id: str, number: int) -> HealthDocument:
    """A received document that fails the CDA test kit, with its report."""
    issues = (
        CheckIssue("Élément inattendu « extraHeader »", location="/ClinicalDocument", source="xsd"),
        CheckIssue("Section absente", severity="warning", rule="VAC-12", source="sch/VAC.sch"),
    )
    check = DocumentCheck(False, ("xml", "structure", "xsd"), ("pas de Saxon",), issues)
    return attrs.evolve(document(patient_id, number), status="received", check=check)


def message(number: int, patient_id: str | None = None) -> ReceivedMessage:
    """A patient's photo of a prescription, received with no document to integrate."""
    photo = MessagePart("ordonnance.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 binary-safe \x00")
    return ReceivedMessage(
        id=f"mss:conformance-{number}",
        channel="mssante",
        content=b"From: <patient@patient.mssante.fr>\r\nSubject: Ordonnance\r\n\r\n\x00\xff",
        sender="285067512345678@patient.mssante.fr",
        subject="Mon ordonnance — à préparer",
        text="Bonjour,\nvoici mon ordonnance.\n",
        parts=(photo, MessagePart("scan.pdf", "application/pdf", b"%PDF-1.4")),
        message_id=f"<{number}@patient.mssante.fr>",
        patient_id=patient_id,
        received_at=T0,
    )


def dispensation(patient_id: str, hours: int, code: str = "3400930000000") -> Dispensation:
    return Dispensation(
        patient_id=patient_id,
        dispensed_at=T0 + dt.timedelta(hours=hours),
        product_code=code,
        label=f"PRODUIT {hours}",
        quantity=1 + hours % 3,
    )


def consent(patient_id: str, granted: bool, minutes: int = 0) -> Consent:
    return Consent(
        patient_id=patient_id,
        purpose="dmp-access",
        granted=granted,
        recorded_at=T0 + dt.timedelta(minutes=minutes),
        recorded_by="10999900003",
    )
