"""Helpers for the tests and the guides: a test patient with a NIR, NIRs with their key,
history lines of a given age."""

from __future__ import annotations

import datetime as dt

from segur_core.model import INS, BirthDate, Identity, IdentityStatus, IdentityTraits, Patient
from segur_dp.depth import Category
from segur_dp.model import HistoryLine

__all__ = ["TEST_NIR_OID", "line_aged", "make_patient", "nir_with_key"]

#: The INS OID of test NIRs (``1.2.250.1.213.1.4.10``).
TEST_NIR_OID = "1.2.250.1.213.1.4.10"


def nir_with_key(nir13: str) -> str:
    """The 15-character NIR: ``nir13`` and its key (97 - NIR mod 97; 2A/2B as 19/18)."""
    number = int(nir13.replace("2A", "19").replace("2B", "18"))
    return f"{nir13}{97 - number % 97:02d}"


def make_patient(nir13: str = "2840375123456", patient_id: str = "") -> Patient:
    """A patient with a qualified test INS (the NIR ``nir13`` and its key)."""
    traits = IdentityTraits("DUPONT", ("MARIE",), "F", BirthDate(1984, 3, 12), "75112")
    ins = INS(nir_with_key(nir13), TEST_NIR_OID)
    return Patient(patient_id, Identity(traits, IdentityStatus.QUALIFIED, ins))


def line_aged(
    days: int, category: Category = Category.ORDINARY, *, now: dt.datetime | None = None,
    product_code: str = "3400936403114", label: str = "DOLIPRANE 1000 mg cp",
) -> HistoryLine:  # fmt: skip
    """A history line dispensed ``days`` ago."""
    moment = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    return HistoryLine(moment, category, product_code, label, 1, "Pharmacie du test")
