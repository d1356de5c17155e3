"""The ordonnance numérique and its dispensation, as frozen values.

A prescription (:class:`EPrescription`) holds what the eP-MED-DM CDA carries and the
pharmacist needs: the prescriber (RPPS), the patient (INS when there is one), the date
and the lines; each line names a product by its code (CIP13, UCD, CIS) or a substance
(prescription en DCI), with its dosage, quantity, duration, renewals and whether it may
be substituted. Reprs never show the patient's names or identifiers.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from segur_core.model import INS, hidden

__all__ = [
    "CIP13_OID",
    "CIS_OID",
    "UCD_OID",
    "EPrescription",
    "PrescribedPatient",
    "Prescriber",
    "PrescriptionLine",
    "Product",
    "ProductKind",
    "Quantity",
]

CIS_OID = "1.2.250.1.213.2.3.1"
CIP13_OID = "1.2.250.1.213.2.3.2"
UCD_OID = "1.2.250.1.213.2.3.3"


class ProductKind(enum.StrEnum):
    """How a line names what to dispense."""

    CIP13 = "cip13"
    UCD = "ucd"
    CIS = "cis"
    SUBSTANCE = "substance"  # prescription en DCI: no product code
    DEVICE = "device"  # a medical device (LPP code or free text)
    OTHER = "other"


def _tuple(value: object) -> tuple:
    return tuple(value) if value is not None else ()  # type: ignore[arg-type]


@attrs.frozen
class Product:
    """What a line prescribes: ``code`` in ``system`` (an OID) when there is one, else a
    substance (``substance``, ``substance_code`` in ATC or SMS)."""

    kind: ProductKind = attrs.field(converter=ProductKind)
    label: str
    code: str | None = None
    system: str | None = None
    substance: str | None = None
    substance_code: str | None = None
    substance_system: str | None = None
    form: str | None = None
    strength: str | None = None


@attrs.frozen
class Quantity:
    """A quantity to dispense: ``value`` in ``unit`` (an EDQM or UCUM code, or text)."""

    value: float
    unit: str | None = None


@attrs.frozen
class PrescriptionLine:
    """One line of the prescription. ``number`` is its rank (1-based), ``line_id`` the
    ``substanceAdministration/id`` when the CDA gives one. ``renewals`` is how many times
    it may be dispensed again after the first time (``repeatNumber``)."""

    number: int
    product: Product
    line_id: str | None = None
    dosage: str | None = None
    quantity: Quantity | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    renewals: int = 0
    substitutable: bool = True
    device: bool = False

    @property
    def duration_days(self) -> int | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).days + 1


@attrs.frozen
class Prescriber:
    """The prescriber: RPPS (``rpps``), profession code, structure."""

    rpps: str | None
    family_name: str | None = attrs.field(default=None, repr=hidden)
    given_name: str | None = attrs.field(default=None, repr=hidden)
    profession: str | None = None
    structure_id: str | None = None
    structure_name: str | None = None


@attrs.frozen
class PrescribedPatient:
    """The patient named by the prescription: INS (when there is one), names, sex and
    birth date as written."""

    ins: INS | None = attrs.field(default=None, repr=hidden)
    family_name: str | None = attrs.field(default=None, repr=hidden)
    given_name: str | None = attrs.field(default=None, repr=hidden)
    sex: str | None = None
    birth_date: str | None = attrs.field(default=None, repr=hidden)

    def traits(self) -> object:
        """The :class:`segur_core.model.IdentityTraits` written on the prescription, or
        ``None`` when they are incomplete."""
        from segur_core.model import BirthDate, IdentityTraits

        if not (self.family_name and self.given_name and self.birth_date and self.sex):
            return None
        try:
            return IdentityTraits(
                birth_name=self.family_name, first_names=tuple(self.given_name.split()),
                sex=self.sex, birth_date=BirthDate.parse(_birth(self.birth_date)),
            )  # fmt: skip
        except (ValueError, TypeError):  # a partial or odd identity: no traits
            return None


@attrs.frozen
class EPrescription:
    """An ordonnance numérique: its unique id, author, patient, date and lines.
    ``document_id`` is the prescription CDA's ``ClinicalDocument/id`` (``root^ext``)."""

    id: str
    prescriber: Prescriber = attrs.field(repr=hidden)
    patient: PrescribedPatient
    issued_at: dt.datetime
    lines: tuple[PrescriptionLine, ...] = attrs.field(default=(), converter=_tuple)
    valid_until: dt.datetime | None = None
    document_id: str | None = None

    def line(self, number: int) -> PrescriptionLine:
        for line in self.lines:
            if line.number == number:
                return line
        raise KeyError(number)

    def to_core(self) -> object:
        """The :class:`segur_core.model.Prescription` of the ``on_prescription_scanned``
        hook."""
        from segur_core.model import Practitioner, Prescription, PrescriptionItem

        items = [
            PrescriptionItem(
                label=line.product.label,
                code=line.product.code,
                code_system=line.product.system,
                quantity=None if line.quantity is None else _qty(line.quantity),
                dosage=line.dosage,
            )
            for line in self.lines
        ]
        traits = self.patient.traits()
        prescriber = Practitioner(
            rpps=self.prescriber.rpps or "",
            family_name=self.prescriber.family_name or "",
            given_name=self.prescriber.given_name or "",
        )
        return Prescription(
            id=self.id, prescriber=prescriber, issued_on=self.issued_at.date(),
            items=items, patient_traits=traits,
        )  # fmt: skip


def _qty(q: Quantity) -> str:
    value = f"{q.value:g}"
    return f"{value} {q.unit}" if q.unit else value


def _birth(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) >= 8 else value
