"""The e-prescription rules on top of the gateway, for one runtime.

- a scan goes through :func:`~segur_eprescription.ids.scan` before any call;
- a fetched prescription is announced (``on_prescription_scanned``) with the host's
  patient when exactly one has its INS;
- a dispensation is checked line by line (:func:`~segur_eprescription.dispensation.decide`)
  and its report queued in the outbox (kind ``eprescription.dispensation``, key the
  report's UUID): it survives an outage of the service and is sent once;
- every fetch and dispensation is journaled (the patient in ``patient_id``, never in logs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from segur_core.errors import PermanentDeliveryError, SegurError
from segur_eprescription.adapter import EPrescriptionGateway, Fetched
from segur_eprescription.dispensation import (
    Decision,
    DispensationReport,
    LineDecision,
    decide,
    report_from_json,
    report_to_json,
)
from segur_eprescription.errors import DispensationError
from segur_eprescription.ids import scan

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["DISPENSATION_KIND", "Dispensed", "EPrescriptionService", "service_for"]

NAME = "eprescription"
DISPENSATION_KIND = "eprescription.dispensation"


def service_for(runtime: Runtime) -> EPrescriptionService:
    """The e-prescription service of ``runtime``: one per runtime, closed with it."""
    return runtime.service(NAME, lambda: EPrescriptionService(runtime))


@attrs.frozen
class Dispensed:
    """A dispensation done: its report, the outbox delivery sending it, and the
    eDISP-MED document built from it (``None`` when not asked for)."""

    report: DispensationReport
    delivery: Any
    patient_id: str | None = None
    edisp: bytes | None = attrs.field(default=None, repr=lambda b: f"<{len(b or b'')} bytes>")


class EPrescriptionService:
    """E-prescription operations with the rules applied. ``gateway`` is built from the
    ``[eprescription]`` config on first use (or given, for tests)."""

    def __init__(self, runtime: Runtime, gateway: EPrescriptionGateway | None = None) -> None:
        self.runtime = runtime
        self._gateway = gateway
        self._lock = threading.Lock()

    @property
    def gateway(self) -> EPrescriptionGateway:
        with self._lock:
            if self._gateway is None:
                from segur_eprescription.connection import build_gateway

                self._gateway = build_gateway(self.runtime.plugin_config(NAME), self.runtime)
            return self._gateway

    def close(self) -> None:
        with self._lock:
            if self._gateway is not None:
                self._gateway.close()
            self._gateway = None

    def _journal(self, action: str, patient_id: str | None, outcome: str = "ok", **details):
        self.runtime.journal.record(
            action, outcome=outcome, service=NAME, patient_id=patient_id,
            actor=f"plugin:{NAME}", details=details or None,
        )  # fmt: skip

    def patient_of(self, fetched: Fetched) -> Any:
        """The host's patient with the prescription's INS, when exactly one has it."""
        ins = fetched.prescription.patient.ins
        if ins is None:
            return None
        found = self.runtime.host.find_patients(ins_matricule=ins.matricule)
        return found[0] if len(found) == 1 else None

    def fetch(self, payload: str | bytes) -> Fetched:
        """Scan ``payload`` (a QR payload or a typed number), fetch the prescription and
        announce it (``on_prescription_scanned``)."""
        prescription_id = scan(payload)
        try:
            fetched = self.gateway.get_prescription(prescription_id)
        except SegurError as exc:
            code = getattr(exc, "code", None)
            self._journal(
                "eprescription.fetch", None, "error", prescription=prescription_id,
                error=type(exc).__name__, **({"code": code} if code else {}),
            )  # fmt: skip
            raise
        patient = self.patient_of(fetched)
        patient_id = patient.id if patient is not None else None
        self._journal(
            "eprescription.fetch", patient_id, prescription=prescription_id,
            done=fetched.done, allowed=fetched.allowed,
        )  # fmt: skip
        self.runtime.prescription_scanned(fetched.prescription.to_core(), patient)
        return fetched

    def dispense(
        self,
        fetched: Fetched,
        decisions: Iterable[LineDecision] = (),
        *,
        build_document: bool = True,
    ) -> Dispensed:
        """Check the pharmacist's ``decisions``, queue the report for the service and
        build the eDISP-MED document (unless ``build_document`` is false)."""
        structure = self.runtime.host.structure()
        practitioner = self.runtime.host.practitioner()
        report = decide(
            fetched.prescription, decisions,
            pharmacist_rpps=practitioner.rpps, pharmacy_finess=structure.finess,
        )  # fmt: skip
        patient = self.patient_of(fetched)
        patient_id = patient.id if patient is not None else None
        document = None
        if build_document:
            document = self.edisp(fetched, report, patient)
        delivery = self.runtime.outbox.enqueue(
            DISPENSATION_KIND, report.report_id, report_to_json(report), patient_id=patient_id
        )
        if patient is not None:
            self._record_in_host(report, patient.id)
        self._journal(
            "eprescription.dispense", patient_id, prescription=report.prescription_id,
            report=report.report_id, delivery=delivery.id, partial=report.partial,
            decisions=[str(line.decision) for line in report.lines],
        )  # fmt: skip
        return Dispensed(report, delivery, patient_id, document)

    def _record_in_host(self, report: DispensationReport, patient_id: str) -> None:
        """The host's dispensation history (``host_record_dispensation``): each line
        delivered with a product code, for the patient the host knows."""
        import math

        from segur_core.model import Dispensation

        for line in report.lines:
            product = line.dispensed
            if product is None or not product.code or line.decision is Decision.NOT_DELIVERED:
                continue
            boxes = line.quantity.value if line.quantity is not None else 1
            self.runtime.host.record_dispensation(
                Dispensation(
                    patient_id=patient_id,
                    dispensed_at=report.dispensed_at,
                    product_code=product.code,
                    label=product.label,
                    quantity=max(1, math.ceil(boxes)),
                    prescription_id=report.prescription_id,
                    pharmacy_finess=report.pharmacy_finess,
                )
            )  # fmt: skip

    def edisp(self, fetched: Fetched, report: DispensationReport, patient: Any = None) -> bytes:
        """The eDISP-MED document of ``report``. The patient is the host's (its INS only
        when the identity is qualified here); a patient the host does not know is written
        with the prescription's traits and no INS (a provisional identity)."""
        from segur_documents.models import DocumentContext

        from segur_core.model import Identity, Patient
        from segur_eprescription.edisp import build_edisp

        ins = None
        if patient is None:
            traits = fetched.prescription.patient.traits()
            if traits is None:
                raise DispensationError(
                    "the prescription's patient identity is incomplete: no eDISP-MED document",
                    hint="identify the patient in the pharmacy software first",
                )
            patient = Patient(id=f"EP-{fetched.prescription.id}", identity=Identity(traits))
        else:
            ins = self.runtime.shareable_ins(patient)
        ctx = DocumentContext(
            structure=self.runtime.host.structure(), author=self.runtime.host.practitioner(),
            patient=patient, ins=ins, effective_time=report.dispensed_at,
        )  # fmt: skip
        document, _warnings = build_edisp(fetched.prescription, report, ctx)
        return document

    def send(self, item: Any) -> str:
        """The outbox sender of ``eprescription.dispensation``: one report per item; a
        report the service already holds (a retry after a lost answer) counts once."""
        try:
            report = report_from_json(item.payload)
        except DispensationError as exc:
            raise PermanentDeliveryError(exc.message, service=NAME, code="payload") from None
        ack = self.gateway.record_dispensation(report)
        self._journal(
            "eprescription.report", getattr(item, "patient_id", None),
            prescription=report.prescription_id, report=report.report_id, ack=ack.ack,
            duplicate=ack.duplicate,
        )  # fmt: skip
        return ack.ack
