"""The routes of segur-ins in ``segur serve``: INSi search, qualification, the
pharmacist's identity-document check, verification.

Each call goes through :class:`~segur_ins.identification.InsService`, as the CLI's do: the
INSi call and every identity change are journaled there, the host saves the patient, and
``on_patient_identified`` fires. The answers mask the INS of stored patients; a search
by traits answers the identity INSi returned (what the LGO asked for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core.serve import ApiCall, ApiRoute, object_schema
from segur_core.serve.schemas import PATIENT_ID, TRAITS, host_patient, structure

if TYPE_CHECKING:
    from segur_core.model import Patient

__all__ = ["DOCUMENTS", "routes"]

#: User-facing names of the high-trust documents -> FR Core identity-validation codes.
DOCUMENTS = {
    "cni": "CN",
    "passeport": "PA",
    "titre-sejour": "CS",
    "cni-electronique": "eCN",
    "identite-numerique": "IN",
    "appli-carte-vitale": "AV",
}


def _service(call: ApiCall) -> Any:
    from segur_ins.service import service

    return service(call.runtime)


def _patient(call: ApiCall) -> Patient:
    return host_patient(call, call.params["patient_id"])


def _identity(patient: Patient) -> dict[str, Any]:
    from segur_ins.nir import mask

    identity = patient.identity
    return {
        "patient": patient.id,
        "status": str(identity.status),
        "ins": mask(identity.ins.matricule) if identity.ins else None,
    }


def search(call: ApiCall) -> dict[str, Any]:
    """Search INSi by the five strict traits (journaled); the identity INSi returned when
    it found exactly one (``code`` 00), else its code (01 none, 02 several)."""
    from segur_core.convert import unstructure
    from segur_core.model import IdentityTraits

    traits = structure(call.body["traits"], IdentityTraits, "body.traits")
    result = _service(call).search(traits=traits)
    identity = None
    if result.found:
        identity = {
            "ins": {"matricule": result.identity.ins.matricule, "oid": result.identity.ins.oid},
            "traits": unstructure(result.identity.traits),
        }
    return {"code": result.code, "label": result.label, "found": result.found, "identity": identity}


def qualify(call: ApiCall) -> dict[str, Any]:
    """Qualify a stored patient with an INSi traits search (RECUP, or QUAL when a
    high-trust document was already checked); ``result`` says what happened."""
    outcome = _service(call).qualify(_patient(call), interactive=False)
    answer = {"result": outcome.result, "code": outcome.code}
    patient = outcome.patient or _patient(call)
    return {**_identity(patient), **answer}


def identity_check(call: ApiCall) -> dict[str, Any]:
    """Record that the pharmacist checked the patient's identity on a high-trust
    document (QUAL once the INS was retrieved)."""
    code = DOCUMENTS[call.body["document"]]
    patient = _service(call).check_document(_patient(call), code)
    return {**_identity(patient), "document": code}


def verify(call: ApiCall) -> dict[str, Any]:
    """Verify a stored patient's INS with INSi (search again and compare)."""
    from segur_ins.verification import verify as run_verify

    result = run_verify(_service(call), _patient(call))
    return {
        **_identity(result.patient),
        "result": result.result,
        "differences": list(result.differences),
        "code": result.code,
    }


_IDENTITY = object_schema(
    {
        "patient": {"type": "string"},
        "status": {"enum": ["PROV", "RECUP", "VALI", "QUAL"]},
        "ins": {"type": ["string", "null"], "description": "masked"},
    },
    ("patient", "status", "ins"),
    additionalProperties=True,
)
_PATIENT = {"patient_id": PATIENT_ID}
_NO_PATIENT = {404: "no such patient in the host"}


def routes() -> list[ApiRoute]:
    return [
        ApiRoute(
            "POST", "/ins/search", search, "insSearch", "Search INSi by traits.",
            body=object_schema({"traits": TRAITS}, ("traits",)),
            answer=object_schema(
                {"code": {"type": "string"}, "label": {"type": "string"},
                 "found": {"type": "boolean"}, "identity": {"type": ["object", "null"]}},
                ("code", "label", "found", "identity"),
            ),
        ),
        ApiRoute(
            "POST", "/ins/patients/{patient_id}/qualify", qualify, "insQualify",
            "Qualify a patient with INSi.", params=_PATIENT, patient="patient_id",
            answer=_IDENTITY, errors=_NO_PATIENT,
        ),
        ApiRoute(
            "POST", "/ins/patients/{patient_id}/identity-check", identity_check,
            "insIdentityCheck", "Record a high-trust identity document check.",
            params=_PATIENT, patient="patient_id", answer=_IDENTITY, errors=_NO_PATIENT,
            body=object_schema({"document": {"enum": list(DOCUMENTS)}}, ("document",)),
        ),
        ApiRoute(
            "POST", "/ins/patients/{patient_id}/verify", verify, "insVerify",
            "Verify a patient's INS with INSi.", params=_PATIENT, patient="patient_id",
            answer=_IDENTITY, errors=_NO_PATIENT,
        ),
    ]  # fmt: skip
