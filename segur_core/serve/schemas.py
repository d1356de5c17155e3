"""JSON Schemas and conversions of the core's model, shared by the plugins' routes: the
identity traits, a card reading, a patient id. A body is turned into a model value by
:func:`structure`, whose errors name the field and never the value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from segur_core.serve.routes import ApiCall, ApiError, object_schema

if TYPE_CHECKING:
    from segur_core.model import Patient

__all__ = ["CARD_READING", "PATIENT_ID", "TRAITS", "host_patient", "structure"]

T = TypeVar("T")

_NAME = {"type": "string", "minLength": 1, "maxLength": 100}

#: :class:`~segur_core.model.IdentityTraits`: the five strict INS traits and the used ones.
TRAITS: dict[str, Any] = object_schema(
    {
        "birth_name": _NAME,
        "first_names": {"type": "array", "items": _NAME, "minItems": 1, "maxItems": 10},
        "sex": {"enum": ["M", "F", "I"]},
        "birth_date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "birth_place": {"type": ["string", "null"], "pattern": r"^[0-9][0-9AB][0-9]{3}$"},
        "used_name": {"type": ["string", "null"], "maxLength": 100},
        "used_first_name": {"type": ["string", "null"], "maxLength": 100},
    },
    ("birth_name", "first_names", "sex", "birth_date"),
)

_NIR = {"type": ["string", "null"], "pattern": r"^[0-9][0-9AB0-9 .]{12,20}$"}

#: :class:`~segur_core.model.CardReading`, as an LGO that reads the card itself posts it.
CARD_READING: dict[str, Any] = object_schema(
    {
        "source": {"enum": ["vitale-card", "apcv", "manual"]},
        "traits": TRAITS,
        "nir": _NIR,
        "insured_nir": _NIR,
        "card_kind": {"type": "string", "maxLength": 40},
        "beneficiary_rank": {"type": "integer", "minimum": 1, "maximum": 20},
        "reader": {"type": ["string", "null"], "maxLength": 200},
        "card_serial": {"type": ["string", "null"], "maxLength": 64},
    },
    ("source", "traits"),
)

#: A patient id of the host, as a path parameter.
PATIENT_ID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}


def structure(data: Any, cls: type[T], where: str = "body") -> T:
    """``data`` as a ``cls`` model value; :class:`ApiError` 422 naming the wrong fields
    (the values are not repeated: they may be a patient's)."""
    import cattrs

    from segur_core.convert import structure as convert

    try:
        return convert(data, cls)
    except Exception as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            problems = cattrs.transform_error(
                exc, path=where, format_exception=lambda e, t: f"invalid {_name(t)}"
            )
        else:
            problems = [f"{where}: invalid {cls.__name__} ({type(exc).__name__})"]
        raise ApiError(
            422, "invalid_input", problems[0], details={"problems": problems[:20]}
        ) from None


def _name(kind: Any) -> str:
    return getattr(kind, "__name__", None) or str(kind)


def host_patient(call: ApiCall, patient_id: str) -> Patient:
    """The host's patient ``patient_id``; :class:`ApiError` 404 when it has none."""
    patient = call.runtime.host.get_patient(patient_id)
    if patient is None:
        raise ApiError(404, "not_found", "no such patient in the host")
    return patient
