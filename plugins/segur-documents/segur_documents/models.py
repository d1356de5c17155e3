"""The inputs and outputs of the document builders: frozen attrs value types.

The clinical content (a vaccination, an entretien pharmaceutique, a bilan partagé de
médication) is separate from the :class:`DocumentContext` (who writes, for whom, which
version), so that one content can be rebuilt as a new version of a document.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from segur_core.errors import DocumentError
from segur_core.model import (
    INS,
    HealthDocument,
    IdentityStatus,
    Patient,
    Practitioner,
    Structure,
    hidden,
    utcnow,
)
from segur_documents import codes

__all__ = [
    "BilanMedication",
    "BuildResult",
    "DocumentContext",
    "Entretien",
    "MedicationLine",
    "TextSection",
    "Vaccination",
    "Vaccine",
    "default_local_root",
]

_DIGITS = re.compile(r"^[0-9]+$")
_OID = re.compile(r"^[0-2](\.(0|[1-9]\d*))+$")


def _tuple(value: object) -> tuple:
    return tuple(value) if value is not None else ()  # type: ignore[arg-type]


def _non_blank(_instance: object, attribute: attrs.Attribute, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be a non-blank string")


def _digits(length: int | None = None):
    def check(_instance: object, attribute: attrs.Attribute, value: str | None) -> None:
        if value is None:
            return
        if not _DIGITS.match(value) or (length is not None and len(value) != length):
            size = f"{length} " if length else ""
            raise ValueError(f"{attribute.name} must be {size}digits")

    return check


def _in(table: dict[str, str]):
    def check(_instance: object, attribute: attrs.Attribute, value: str | None) -> None:
        if value is not None and value not in table:
            raise ValueError(f"{attribute.name} {value!r} is not one of {sorted(table)}")

    return check


def default_local_root(finess: str) -> str:
    """A stable OID for the pharmacy's local patient identifiers when none is configured:
    a ``2.25`` UUID OID derived from the FINESS (configure the structure's own OID in
    production)."""
    import uuid

    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_OID, 'segur:patient-id:' + finess).int}"


def is_oid(value: str) -> bool:
    """Whether ``value`` is a dotted OID."""
    return bool(_OID.match(value)) and len(value) <= 64


@attrs.frozen
class Vaccine:
    """A vaccine: its CIS code (BDPM), label, ATC class and optional CIP13 presentation."""

    cis: str = attrs.field(validator=_digits(8))
    label: str = attrs.field(validator=_non_blank)
    atc: str = attrs.field(validator=_non_blank)
    atc_label: str = attrs.field(validator=_non_blank)
    cip13: str | None = attrs.field(default=None, validator=_digits(13))


@attrs.frozen
class Vaccination:
    """One vaccination given at the pharmacy (content of a note de vaccination).

    ``act`` is the type d'acte (``INITIMMUNIZ`` first series, ``BOOSTER``, ``IMMUNIZ``),
    ``route`` an EDQM route code and ``site`` a SNOMED CT site code from the CI-SIS value
    sets (see :mod:`segur_documents.codes`), ``dose_rank`` the rank of the dose.
    """

    vaccine: Vaccine
    lot_number: str = attrs.field(validator=_non_blank)
    administered_on: dt.date = attrs.field(validator=attrs.validators.instance_of(dt.date))
    act: str = attrs.field(default="IMMUNIZ", validator=_in(codes.ACT_CODES))
    dose_rank: int | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(
            [attrs.validators.instance_of(int), attrs.validators.ge(1)]
        ),
    )
    route: str | None = attrs.field(default=None, validator=_in(codes.ROUTES))
    site: str | None = attrs.field(default=None, validator=_in(codes.APPROACH_SITES))
    comment: str | None = None


@attrs.frozen
class TextSection:
    """A titled paragraph of a non-structured (PDF) document."""

    title: str = attrs.field(validator=_non_blank)
    body: str = ""


@attrs.frozen
class Entretien:
    """A compte-rendu d'entretien pharmaceutique (AOD, AVK, asthme, femme enceinte...)."""

    held_on: dt.date = attrs.field(validator=attrs.validators.instance_of(dt.date))
    theme: str = attrs.field(validator=_non_blank)
    sections: tuple[TextSection, ...] = attrs.field(default=(), converter=_tuple)
    next_appointment: dt.date | None = None


@attrs.frozen
class MedicationLine:
    """One treatment reviewed in a bilan partagé de médication."""

    label: str = attrs.field(validator=_non_blank)
    code: str | None = None  # CIS or CIP13 when known
    dosage: str | None = None
    prescriber: str | None = attrs.field(default=None, repr=hidden)
    comment: str | None = None


@attrs.frozen
class BilanMedication:
    """A bilan partagé de médication: treatments reviewed, analysis and conclusions."""

    held_on: dt.date = attrs.field(validator=attrs.validators.instance_of(dt.date))
    medications: tuple[MedicationLine, ...] = attrs.field(default=(), converter=_tuple)
    sections: tuple[TextSection, ...] = attrs.field(default=(), converter=_tuple)
    attending_physician: str | None = attrs.field(default=None, repr=hidden)


@attrs.frozen
class DocumentContext:
    """Who writes the document, for whom, and which version it is.

    ``ins`` is the patient's shareable INS (``runtime.shareable_ins(patient)``) or
    ``None``: the document then carries only the local identifier ``patient.id`` under
    ``local_id_root`` (default: :func:`default_local_root` of the structure).
    ``set_id``/``version``/``replaces`` describe a new version of an existing document
    (``replaces`` is the id of the previous version).
    """

    structure: Structure
    author: Practitioner
    patient: Patient
    ins: INS | None
    local_id_root: str | None = None
    effective_time: dt.datetime = attrs.Factory(utcnow)
    set_id: str | None = None
    version: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    replaces: str | None = None
    confidentiality: str = attrs.field(default="N", validator=attrs.validators.in_(("N", "R", "V")))
    legal_authenticator: Practitioner | None = None
    authenticated_at: dt.datetime | None = None

    def __attrs_post_init__(self) -> None:
        if self.ins is not None and self.patient.identity.status is not IdentityStatus.QUALIFIED:
            raise DocumentError(
                "the INS may only be written for a qualified (QUAL) identity",
                hint="ask runtime.shareable_ins(patient) and pass what it returns",
            )
        if self.local_id_root is not None and not is_oid(self.local_id_root):
            raise ValueError("local_id_root must be an OID")
        if self.effective_time.tzinfo is None:
            raise ValueError("effective_time must be timezone-aware")
        if (self.version > 1) != (self.replaces is not None):
            raise ValueError("a version > 1 replaces a previous version, and only then")
        if self.replaces is not None and self.set_id is None:
            raise ValueError("a new version keeps the set id of the previous one")


@attrs.frozen
class BuildResult:
    """A built document: the :class:`HealthDocument` (status draft), its kind
    (``vaccination``, ``entretien``, ``bpm``) and the warnings the pharmacist must see
    (no INS shared, datamatrix skipped...)."""

    document: HealthDocument
    kind: str
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    pdf: bytes | None = attrs.field(default=None, repr=False)

    @property
    def xml(self) -> bytes:
        return self.document.content
