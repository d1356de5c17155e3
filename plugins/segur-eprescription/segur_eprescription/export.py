"""The e-prescription part of the portability export (``segur_export_sections``): the
e-prescriptions read for the patient, and the dispensations reported to the service with
what became of each report.

segur-eprescription keeps nothing per patient: the prescription stays with the service,
the host keeps what was dispensed (``DISPENS.JSN``). Both sections are read from the
patient's journal records (``eprescription.*`` and the outbox's attempts at sending the
reports); they are a history of this system, kept in the archive only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from segur_core.exportdata import (
    DATETIME,
    DELIVERY_STATES,
    JOURNAL_AT,
    array_of,
    at,
    delivery_outcomes,
    integer,
    journal_records,
    obj,
    prop,
    section,
    text,
)
from segur_core.plugin import ExportSection
from segur_eprescription.dispensation import Decision
from segur_eprescription.service import DISPENSATION_KIND

__all__ = ["DISPENSATIONS", "READ", "eprescription_sections"]

_PRESCRIPTION = prop(
    "string",
    "Prescription: the e-prescription's id (ordonnance numérique)",
    "Prescription: identifiant de l'ordonnance numérique",
)

READ = array_of(
    "epread",
    "E-prescriptions read: every e-prescription fetched from the service for the patient "
    "(QR code scanned or number typed), with its dispensation state then; read from the "
    "journal. A prescription whose INS matched no patient of the pharmacy is not here",
    "Ordonnances numériques lues: chaque ordonnance numérique obtenue du service pour le "
    "patient (QR code scanné ou numéro saisi), avec son état de dispensation à ce moment; "
    "lu dans le journal. Une ordonnance dont l'INS ne correspondait à aucun patient de la "
    "pharmacie n'y est pas",
    obj(
        {
            "at": JOURNAL_AT,
            "prescription": _PRESCRIPTION,
            "done": prop(
                {"type": "integer", "minimum": 0},
                "Dispensations done: closed dispensations (0: none yet)",
                "Dispensations faites: dispensations clôturées (0: aucune encore)",
                nullable=True,
            ),
            "allowed": prop(
                {"type": "integer", "minimum": 1},
                "Dispensations allowed: 1 + renewals",
                "Dispensations autorisées: 1 + renouvellements",
                nullable=True,
            ),
        }
    ),
    informational=True,
)

DISPENSATIONS = array_of(
    "epdisp",
    "Dispensations reported: every dispensation of an e-prescription reported to the "
    "service for the patient, the pharmacist's decision per line and what became of the "
    "report; read from the journal",
    "Dispensations déclarées: chaque dispensation d'une ordonnance numérique déclarée au "
    "service pour le patient, la décision du pharmacien par ligne et ce qu'est devenue la "
    "déclaration; lu dans le journal",
    obj(
        {
            "at": JOURNAL_AT,
            "prescription": _PRESCRIPTION,
            "report": prop(
                "string", "Report: its id (UUID)", "Déclaration: son identifiant (UUID)"
            ),
            "partial": prop(
                "boolean",
                "Partial: true when the prescription is not fully dispensed (false: fully)",
                "Partielle: true quand l'ordonnance n'est pas entièrement délivrée (false: "
                "entièrement)",
                nullable=True,
            ),
            "decisions": prop(
                {"type": "array", "items": {"enum": [str(d) for d in Decision]}},
                "Decisions: per line, in order: delivered, substituted, adapted, partial, "
                "not-delivered",
                "Décisions: par ligne, dans l'ordre: delivered (délivrée), substituted "
                "(substituée), adapted (adaptée), partial (partielle), not-delivered (non "
                "délivrée)",
                nullable=True,
            ),
            "delivery": prop(
                {"enum": list(DELIVERY_STATES)},
                "Sending: pending (queued, or being retried), delivered, dead (given up)",
                "Envoi: pending (en attente ou en cours de nouvel essai), delivered "
                "(délivré), dead (abandonné)",
            ),
            "attempts": prop(
                "integer",
                "Attempts: sending attempts made; null: none yet",
                "Essais: tentatives d'envoi faites; null: aucune encore",
                nullable=True,
            ),
            "acknowledged_at": prop(
                DATETIME,
                "Acknowledged at: when the service recorded it; null: not yet",
                "Accusé le: quand le service l'a enregistrée; null: pas encore",
                nullable=True,
            ),
            "ack": prop(
                "string",
                "Acknowledgement: the service's; null: not yet",
                "Accusé de réception: celui du service; null: pas encore",
                nullable=True,
            ),
        }
    ),
    informational=True,
)


def eprescription_sections(
    runtime: Any, patient_id: str, since: dt.datetime | None
) -> list[ExportSection]:
    """The patient's ``epread`` and ``epdisp`` sections (records at or after ``since``)."""
    records = journal_records(runtime, patient_id, since, ("eprescription.", "outbox.attempt"))

    def read() -> Iterator[dict[str, Any]]:
        for record in records():
            d = record.details
            if record.action == "eprescription.fetch" and isinstance(d.get("prescription"), str):
                yield {
                    "at": at(record),
                    "prescription": d["prescription"],
                    "done": integer(d.get("done"), minimum=0),
                    "allowed": integer(d.get("allowed"), minimum=1),
                }

    def dispensations() -> Iterator[dict[str, Any]]:
        sent = delivery_outcomes(records(), DISPENSATION_KIND)
        acks = {
            text(r.details.get("report")): r
            for r in records()
            if r.action == "eprescription.report"
        }
        decisions = {str(d) for d in Decision}
        for record in records():
            d = record.details
            if record.action != "eprescription.dispense" or not isinstance(d.get("report"), str):
                continue
            outcome = sent.get(integer(d.get("delivery")), {})
            ack = acks.get(d["report"])
            lines = d.get("decisions")
            yield {
                "at": at(record),
                "prescription": text(d.get("prescription")) or "",
                "report": d["report"],
                "partial": d["partial"] if isinstance(d.get("partial"), bool) else None,
                "decisions": [x for x in lines if isinstance(x, str) and x in decisions]
                if isinstance(lines, list)
                else None,
                "delivery": "delivered" if ack is not None else outcome.get("state", "pending"),
                "attempts": outcome.get("attempts"),
                "acknowledged_at": at(ack) if ack is not None else None,
                "ack": text(ack.details.get("ack")) if ack is not None else None,
            }

    return [
        section("epread", READ, read),
        section("epdisp", DISPENSATIONS, dispensations),
    ]
