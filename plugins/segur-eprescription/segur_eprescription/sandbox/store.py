"""The sandbox service's state and rules: prescriptions (eP-MED-DM documents), how many
times each was dispensed, the dispensation reports received.

Semantics (the public behaviour of §5.1 of the reference; the exact rules are the
CNAM's and not public): a prescription may be dispensed ``1 + renewals`` times
(``renewals``: the largest ``repeatNumber`` of its lines). A report with a partial line
leaves the current dispensation open (sequenced dispensation); any other report closes
it. Once every dispensation is done the prescription is refused (single use). A report
is recorded once: sending it again (a retry after a lost answer) returns the first
acknowledgement.
"""

from __future__ import annotations

import threading
from typing import Any

import attrs

from segur_eprescription.epmeddm import read_prescription
from segur_eprescription.models import EPrescription

__all__ = ["Refusal", "Store", "Stored"]


class Refusal(Exception):
    """A request the sandbox refuses: HTTP ``status``, service ``code`` and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@attrs.define
class Stored:
    prescription: EPrescription
    cda: bytes = attrs.field(repr=False)
    done: int = 0  # dispensations closed
    open: bool = False  # a sequenced dispensation is under way
    reports: list[str] = attrs.Factory(list)

    @property
    def allowed(self) -> int:
        return 1 + max((line.renewals for line in self.prescription.lines), default=0)

    @property
    def exhausted(self) -> bool:
        return self.done >= self.allowed


class Store:
    """Thread-safe, in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Stored] = {}
        self._acks: dict[str, dict[str, Any]] = {}

    def add(self, cda: bytes) -> EPrescription:
        prescription = read_prescription(cda)
        with self._lock:
            if prescription.id in self._items:
                raise Refusal(409, "DUPLICATE", "a prescription with this id exists")
            self._items[prescription.id] = Stored(prescription, cda)
        return prescription

    def get(self, prescription_id: str) -> Stored:
        with self._lock:
            found = self._items.get(prescription_id)
            if found is None:
                raise Refusal(404, "UNKNOWN", "no prescription with this id")
            return found

    def read(self, prescription_id: str) -> dict[str, Any]:
        stored = self.get(prescription_id)
        with self._lock:
            if stored.exhausted:
                raise Refusal(
                    409, "DISPENSED",
                    f"the prescription was fully dispensed ({stored.done} of {stored.allowed})",
                )  # fmt: skip
            return {"done": stored.done, "allowed": stored.allowed, "open": stored.open}

    def record(self, report: Any) -> dict[str, Any]:
        """Record a :class:`~segur_eprescription.dispensation.DispensationReport`."""
        with self._lock:
            ack = self._acks.get(report.report_id)
            if ack is not None:
                return {**ack, "duplicate": True}
            stored = self._items.get(report.prescription_id)
            if stored is None:
                raise Refusal(404, "UNKNOWN", "no prescription with this id")
            if stored.exhausted:
                raise Refusal(409, "DISPENSED", "the prescription was fully dispensed")
            numbers = sorted(line.line for line in report.lines)
            expected = sorted(line.number for line in stored.prescription.lines)
            if numbers != expected:
                raise Refusal(400, "LINES", f"the report lines {numbers} are not {expected}")
            stored.reports.append(report.report_id)
            if report.partial:
                stored.open = True
            else:
                stored.open = False
                stored.done += 1
            ack = {
                "ack": f"ACK-{len(self._acks) + 1:06d}",
                "done": stored.done, "allowed": stored.allowed, "open": stored.open,
            }  # fmt: skip
            self._acks[report.report_id] = ack
            return dict(ack)

    def reports(self, prescription_id: str) -> list[str]:
        with self._lock:
            return list(self._items[prescription_id].reports)
