"""The DP's values: the patient's DP key, history lines, alerts and recalls, a
dispensation to record. Frozen attrs values; no repr shows a patient identifier."""

from __future__ import annotations

import datetime as dt
import enum
import re

import attrs

from segur_core.model import CardReading, hidden
from segur_dp.depth import Category
from segur_dp.errors import PatientKeyError

__all__ = [
    "Alert",
    "AlertKind",
    "DPPatient",
    "DispensationRecord",
    "HistoryLine",
    "check_nir",
]

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


@attrs.frozen
class DPPatient:
    """Who the DP is about: the beneficiary's NIR (from the carte Vitale, the appli carte
    Vitale or typed) and their rank on the card. ``patient_id`` is the host's own key."""

    nir: str = attrs.field(converter=check_nir, repr=hidden)
    patient_id: str | None = None
    rank: int = 1

    @classmethod
    def from_reading(cls, reading: CardReading, patient_id: str | None = None) -> DPPatient:
        """The key of a carte Vitale (or ApCV) reading: the beneficiary's own NIR, or the
        insured person's with the beneficiary's rank."""
        nir = reading.nir or reading.insured_nir
        if nir is None:
            raise PatientKeyError("the card reading carries no NIR")
        return cls(nir, patient_id=patient_id, rank=reading.beneficiary_rank)


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
