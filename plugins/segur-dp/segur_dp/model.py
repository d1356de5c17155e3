"""The DP's values: the patient's DP key, history lines, alerts and recalls, a
dispensation to record. Frozen attrs values; no repr shows a patient identifier."""

from __future__ import annotations

import datetime as dt
import enum
import re

import attrs
from attrs.converters import optional

from segur_core.model import CardReading, hidden
from segur_dp.depth import Category
from segur_dp.errors import PatientKeyError

__all__ = [
    "NDP_OID",
    "Alert",
    "AlertKind",
    "DPPatient",
    "DispensationRecord",
    "Dossier",
    "HistoryLine",
    "check_ndp",
    "check_nir",
]

#: The OID of the NDP, the DP's own patient identifier (FR Core).
NDP_OID = "1.2.250.1.176.1.2"

#: A NIR: sex, year, month, department (2A/2B for Corsica), commune, order; the 2-digit
#: key may follow.
_NIR = re.compile(r"[1-478]\d{2}(?:0[1-9]|1[0-2]|[2-9]\d)(?:\d{2}|2[AB])\d{6}(?:\d{2})?")


def check_nir(value: object) -> str:
    """The 13-character NIR of ``value`` (its key checked and dropped when given), or
    :class:`PatientKeyError` (the message never repeats the value)."""
    if not isinstance(value, str) or _NIR.fullmatch(value.strip().upper()) is None:
        raise PatientKeyError(
            "not a NIR (13 characters, 15 with the key)", hint="read the carte Vitale again"
        )
    nir = value.strip().upper()
    if len(nir) == 15:
        number = int(nir[:13].replace("2A", "19").replace("2B", "18"))
        if 97 - number % 97 != int(nir[13:]):
            raise PatientKeyError("the NIR's key does not match", hint="check the number typed")
    return nir[:13]


#: An NDP as accepted here. Its format is not public, so the check is of shape only:
#: 8 to 64 ASCII letters and digits, with ``-``, ``.`` or ``_`` allowed inside; kept
#: as given (an opaque identifier is not case-folded), surrounding blanks dropped.
_NDP = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{6,62})[A-Za-z0-9]")


def check_ndp(value: object) -> str:
    """``value`` as an NDP (the DP's patient identifier), or :class:`PatientKeyError`
    (the message never repeats the value)."""
    if not isinstance(value, str) or _NDP.fullmatch(value.strip()) is None:
        raise PatientKeyError(
            "not an NDP (8 to 64 letters, digits, '-', '.' or '_')",
            hint="use the NDP the DP gave when the patient's DP was created",
        )
    return value.strip()


@attrs.frozen
class DPPatient:
    """Who the DP is about: the beneficiary's NIR (from the carte Vitale, the appli carte
    Vitale or typed) and their rank on the card, or the NDP the DP gave their dossier
    (either suffices; the NDP is used when given). ``patient_id`` is the host's own key."""

    nir: str | None = attrs.field(converter=optional(check_nir), repr=hidden)
    patient_id: str | None = None
    rank: int = 1
    ndp: str | None = attrs.field(default=None, converter=optional(check_ndp), repr=hidden)

    def __attrs_post_init__(self) -> None:
        if self.nir is None and self.ndp is None:
            raise PatientKeyError("neither a NIR nor an NDP for the patient")

    @classmethod
    def by_ndp(cls, ndp: str, patient_id: str | None = None) -> DPPatient:
        """The patient known to the DP by their NDP alone (no card, no INS)."""
        return cls(None, patient_id=patient_id, ndp=ndp)

    @classmethod
    def from_reading(cls, reading: CardReading, patient_id: str | None = None) -> DPPatient:
        """The key of a carte Vitale (or ApCV) reading: the beneficiary's own NIR, or the
        insured person's with the beneficiary's rank."""
        nir = reading.nir or reading.insured_nir
        if nir is None:
            raise PatientKeyError("the card reading carries no NIR")
        return cls(nir, patient_id=patient_id, rank=reading.beneficiary_rank)


@attrs.frozen
class Dossier:
    """The DP's answer to a creation: ``status`` (``"created"``, ``"exists"`` or
    ``"refused"``) and the dossier's NDP (none for a refusal), for the host to keep."""

    status: str
    ndp: str | None = attrs.field(default=None, converter=optional(check_ndp), repr=hidden)


@attrs.frozen
class HistoryLine:
    """One dispensation in the patient's DP, from any pharmacy."""

    dispensed_at: dt.datetime
    category: Category = attrs.field(converter=Category)
    product_code: str  # CIP13 or UCD
    label: str
    quantity: int = 1
    pharmacy: str | None = None  # the dispensing pharmacy's name (not its patient)


class AlertKind(enum.StrEnum):
    """DP-Alertes (health alerts) or DP-Rappels (batch recalls)."""

    ALERT = "alert"
    RECALL = "recall"


@attrs.frozen
class Alert:
    """An alert or recall the DP pushes to pharmacies; it blocks the pharmacist's work
    until acknowledged."""

    id: str
    kind: AlertKind = attrs.field(converter=AlertKind)
    title: str
    issued_at: dt.datetime
    body: str = ""
    products: tuple[str, ...] = attrs.field(default=(), converter=tuple)


@attrs.frozen
class DispensationRecord:
    """A dispensation to write into the patient's DP; ``key`` makes a resend harmless."""

    key: str
    patient: DPPatient
    line: HistoryLine
