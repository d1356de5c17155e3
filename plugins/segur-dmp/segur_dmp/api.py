"""The routes of segur-dmp in ``segur serve``: a patient's DMP status, the documents in
their DMP, one document, masking one of this pharmacy's documents.

Each goes through :class:`~segur_dmp.service.DMPService` (access check first, every
access journaled, refused accesses too); a refused access answers 403 ``forbidden`` with
its reason (``NO_INS``, ``NO_CONSENT``, ``INTERDIT``...) in ``details``. Feeding the DMP
needs no route: validating a document queues it (``on_document_validated``).
"""

from __future__ import annotations

from typing import Any

from segur_core.serve import ApiCall, ApiRoute, Raw, object_schema
from segur_core.serve.schemas import PATIENT_ID, host_patient

__all__ = ["routes"]

_DOCUMENT_ID = {"type": "string", "pattern": r"^[0-9A-Za-z.^_:-]{1,200}$"}


def _service(call: ApiCall) -> Any:
    from segur_dmp.service import service_for

    return service_for(call.runtime)


def status(call: ApiCall) -> dict[str, Any]:
    """The access status of the patient's DMP (TD0.2) and where each document this
    pharmacy sent for them stands (queued, in-dmp, failed, masked, deleted)."""
    from segur_core.errors import SegurError

    service = _service(call)
    patient_id = call.params["patient_id"]
    access: dict[str, Any]
    try:
        found = service.check_access(patient_id)
        access = {
            "exists": found.exists,
            "closed": found.closed,
            "authorization": found.authorization,
            "allowed": found.allowed,
        }
    except SegurError as exc:
        access = {"error": exc.message, "reason": getattr(exc, "status", None)}
    documents = [
        {"id": row.document_id, "state": row.state, "detail": row.detail, "at": row.updated_at}
        for row in service.status.for_patient(patient_id)
    ]
    return {"access": access, "documents": documents}


def documents(call: ApiCall) -> dict[str, Any]:
    """The documents of the patient's DMP visible to this pharmacy (ITI-18)."""
    entries = _service(call).list(call.params["patient_id"])
    return {
        "documents": [
            {
                "id": e.unique_id,
                "title": e.title,
                "type_code": e.type_code.code,
                "created": str(e.creation_time),
                "masked": bool(e.masked),
            }
            for e in entries
        ]
    }


def get(call: ApiCall) -> Raw:
    """One document of the patient's DMP (ITI-43)."""
    content = _service(call).get(call.params["patient_id"], call.params["document_id"])
    return Raw(content, "application/xml")


def mask(call: ApiCall) -> dict[str, Any]:
    """Mask one of this pharmacy's documents to other professionals, or unmask it (ITI-57)."""
    masked = call.body["masked"]
    _service(call).set_masked(call.params["patient_id"], call.params["document_id"], masked)
    return {"id": call.params["document_id"], "masked": masked}


def consent(call: ApiCall) -> dict[str, Any]:
    """Record, through the host, the patient's consent (or opposition) to this pharmacy
    accessing their DMP: what the pharmacist noted at the counter (TD0.3 needs it)."""
    from segur_core.model import Consent
    from segur_dmp.service import CONSENT_PURPOSE

    runtime = call.runtime
    patient_id = call.params["patient_id"]
    host_patient(call, patient_id)
    granted = call.body["granted"]
    runtime.host.record_consent(
        Consent(
            patient_id, CONSENT_PURPOSE, granted,
            recorded_by=call.caller, note=call.body.get("note"),
        )
    )  # fmt: skip
    runtime.journal.record(
        "dmp.consent", patient_id=patient_id, actor=call.caller, details={"granted": granted}
    )
    return {"patient_id": patient_id, "purpose": CONSENT_PURPOSE, "granted": granted}


_PATIENT = {"patient_id": PATIENT_ID}
_DOCUMENT = {"patient_id": PATIENT_ID, "document_id": _DOCUMENT_ID}
_REFUSED = {403: "access to the patient's DMP refused (details.reason)"}


def routes() -> list[ApiRoute]:
    return [
        ApiRoute(
            "GET", "/dmp/patients/{patient_id}/status", status, "dmpStatus",
            "DMP access status and the documents sent.", params=_PATIENT,
            patient="patient_id",
        ),
        ApiRoute(
            "POST", "/dmp/patients/{patient_id}/consent", consent, "dmpConsent",
            "Record the patient's consent to DMP access.", params=_PATIENT,
            patient="patient_id", errors={404: "no such patient in the host"},
            body=object_schema(
                {"granted": {"type": "boolean"}, "note": {"type": "string", "maxLength": 500}},
                ("granted",),
            ),
        ),
        ApiRoute(
            "GET", "/dmp/patients/{patient_id}/documents", documents, "dmpList",
            "Documents in the patient's DMP.", params=_PATIENT, patient="patient_id",
            errors=_REFUSED,
        ),
        ApiRoute(
            "GET", "/dmp/patients/{patient_id}/documents/{document_id}", get, "dmpGet",
            "One document of the patient's DMP.", params=_DOCUMENT, patient="patient_id",
            answer_media_type="application/xml", errors=_REFUSED,
        ),
        ApiRoute(
            "POST", "/dmp/patients/{patient_id}/documents/{document_id}/mask", mask, "dmpMask",
            "Mask or unmask one of this pharmacy's documents.", params=_DOCUMENT,
            patient="patient_id", body=object_schema({"masked": {"type": "boolean"}}, ("masked",)),
            errors=_REFUSED,
        ),
    ]  # fmt: skip
