"""The routes of segur-documents in ``segur serve``: build a document, validate it (the
pharmacist's legal authentication), read it back, or only check a CDA.

Validation runs the official checks once, in the service's warm validator when it has
one (see :mod:`segur_documents.checks.warm`): a refused document answers 422
``invalid_document`` with every issue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core.serve import ApiCall, ApiError, ApiRoute, Raw, Warmup, object_schema
from segur_core.serve.schemas import PATIENT_ID, host_patient, structure

if TYPE_CHECKING:
    from segur_core.model import HealthDocument
    from segur_core.runtime import Runtime

__all__ = ["routes", "warmups"]

KINDS = ("vaccination", "entretien", "bpm")
_DOCUMENT_ID = {"type": "string", "pattern": r"^[0-9A-Za-z.^_:-]{1,200}$"}
_CDA_MEDIA_TYPE = "application/xml"


def _service(call: ApiCall) -> Any:
    from segur_documents.service import DocumentService

    return DocumentService(call.runtime)


def _document(call: ApiCall) -> HealthDocument:
    document = call.runtime.host.get_document(call.params["document_id"])
    if document is None:
        raise ApiError(404, "not_found", "no such document in the host")
    return document


def _summary(document: HealthDocument) -> dict[str, Any]:
    return {
        "id": document.id,
        "patient_id": document.patient_id,
        "status": str(document.status),
        "type_code": document.type_code,
        "title": document.title,
        "version": document.version,
        "set_id": document.set_id,
        "replaces": document.replaces,
    }


def build(call: ApiCall) -> dict[str, Any]:
    """Build a draft document for a patient from its content (the fields of
    ``Vaccination``, ``Entretien`` or ``BilanMedication``) and store it in the host."""
    from segur_documents.models import BilanMedication, Entretien, Vaccination

    patient = host_patient(call, call.body["patient_id"])
    cls = {"vaccination": Vaccination, "entretien": Entretien, "bpm": BilanMedication}
    content = structure(call.body["content"], cls[call.body["kind"]], "body.content")
    result = _service(call).draft(patient, content)
    return {**_summary(result.document), "warnings": list(result.warnings)}


def validate(call: ApiCall) -> dict[str, Any]:
    """Validate (legally authenticate) a draft: checked once, stored as validated,
    ``on_document_validated`` fired (the DMP feed is queued). Refused with the issues
    when a check fails."""
    service = _service(call)
    validated = service.validate(_document(call))
    report = service.last_report
    return {
        **_summary(validated),
        "checks": list(report.checks) if report else [],
        "skipped": list(report.skipped) if report else [],
    }


def get(call: ApiCall) -> Raw:
    """The document's CDA XML, as the host stores it."""
    return Raw(_document(call).content, _CDA_MEDIA_TYPE)


def check(call: ApiCall) -> dict[str, Any]:
    """Only check a CDA document (XML body): structure, XSD and the official
    schematrons; nothing is stored. ``valid`` says whether it passed."""
    from segur_documents.service import DocumentService

    report = DocumentService(call.runtime).check(call.body)
    return dict(report.as_dict())


_SUMMARY = object_schema(
    {
        "id": {"type": "string"},
        "patient_id": {"type": "string"},
        "status": {"enum": ["draft", "validated", "replaced", "received"]},
        "type_code": {"type": "string"},
        "title": {"type": "string"},
        "version": {"type": "integer"},
        "set_id": {"type": ["string", "null"]},
        "replaces": {"type": ["string", "null"]},
    },
    ("id", "patient_id", "status", "type_code", "version"),
    additionalProperties=True,
)
_REPORT = object_schema(
    {
        "valid": {"type": "boolean"},
        "checks": {"type": "array", "items": {"type": "string"}},
        "skipped": {"type": "array", "items": {"type": "string"}},
        "issues": {"type": "array", "items": {"type": "object"}},
    },
    ("valid", "checks", "skipped", "issues"),
)
_ID = {"document_id": _DOCUMENT_ID}


def routes() -> list[ApiRoute]:
    return [
        ApiRoute(
            "POST", "/documents", build, "documentsBuild", "Build a draft document.",
            body=object_schema(
                {"patient_id": PATIENT_ID, "kind": {"enum": list(KINDS)},
                 "content": {"type": "object"}},
                ("patient_id", "kind", "content"),
            ),
            status=201, answer=_SUMMARY, patient="patient_id",
            errors={404: "no such patient in the host"},
        ),
        ApiRoute(
            "POST", "/documents/{document_id}/validate", validate, "documentsValidate",
            "Validate (legally authenticate) a draft.", params=_ID, answer=_SUMMARY,
            errors={404: "no such document in the host"},
        ),
        ApiRoute(
            "GET", "/documents/{document_id}", get, "documentsGet", "A document's CDA XML.",
            params=_ID, answer_media_type=_CDA_MEDIA_TYPE,
            errors={404: "no such document in the host"},
        ),
        ApiRoute(
            "POST", "/documents/check", check, "documentsCheck",
            "Only check a CDA document (nothing stored).",
            body={"type": "string"}, body_media_type=_CDA_MEDIA_TYPE, answer=_REPORT,
        ),
    ]  # fmt: skip


def warmups(runtime: Runtime) -> list[Warmup]:
    """Keep a validator warm in a worker process for the service's life."""
    from segur_documents.checks.warm import Validators, WarmValidator
    from segur_documents.config import DocumentsConfig

    try:
        config = runtime.plugin_config("documents") or DocumentsConfig()
    except Exception:
        config = DocumentsConfig()
    validators = runtime.service("documents.validators", Validators)
    if validators.warm is None:
        validators.warm = WarmValidator(config)
    return [Warmup("documents.schematrons", validators.warm.warm_up)]
