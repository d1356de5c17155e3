"""MSSanté's part of the portability export (``segur_export_sections``): the messages sent
about the patient with what became of them for each recipient (submission, delivery
status notifications, read receipts), and what was received for the patient.

The plugin keeps the status of a sent message per recipient, keyed by the message
(``mss-status.sqlite``); which patient a message was about is in the journal
(``mss.send-queued``). So the patient's journal records give their messages, the status
store each one's recipients and outcome, and the outbox's attempts its submission.
Received documents are the host's (``DOCS.JSN``); their arrival is journaled
(``mss.document-received``, ``mss.message-kept``). A history of this system, kept in the
archive only.
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
from segur_mssante.acks import DELAYED, DELIVERED, FAILED, QUEUED, READ
from segur_mssante.message import MES_DOMAIN

__all__ = ["RECEIVED", "SENT", "mss_sections"]

_MESSAGE_ID = prop("string", "Message-ID: of the e-mail", "Message-ID: du courriel", nullable=True)
_DOCUMENT = prop(
    "string",
    "Document: id of the CDA document it carries (DOCS.JSN); null: not recorded",
    "Document: identifiant du document CDA qu'il porte (DOCS.JSN); null: non enregistré",
    nullable=True,
)
_TYPE = prop("string", "Document type: LOINC code", "Type de document: code LOINC", nullable=True)
_STATES = [QUEUED, DELIVERED, DELAYED, FAILED, READ]

SENT = array_of(
    "msssent",
    "MSSanté messages sent: every message sent about the patient (to professionals or "
    "to the patient's Mon Espace Santé mailbox), its submission and, per recipient, its "
    "delivery outcome from the delivery status notifications (DSN) and read receipts "
    "(MDN); read from the journal and the plugin's status store",
    "Messages MSSanté envoyés: chaque message envoyé au sujet du patient (à des "
    "professionnels ou à la messagerie Mon Espace Santé du patient), sa soumission et, "
    "par destinataire, son résultat d'après les avis de remise (DSN) et accusés de "
    "lecture (MDN); lu dans le journal et le suivi des envois du module",
    obj(
        {
            "at": JOURNAL_AT,
            "message_id": _MESSAGE_ID,
            "document": _DOCUMENT,
            "document_type": _TYPE,
            "submission": prop(
                {"enum": list(DELIVERY_STATES)},
                "Submission to the mail server: pending (queued, or being retried), "
                "delivered (accepted), dead (given up)",
                "Soumission au serveur de messagerie: pending (en attente ou en cours de "
                "nouvel essai), delivered (acceptée), dead (abandonnée)",
            ),
            "recipients": prop(
                {
                    "type": "array",
                    "items": obj(
                        {
                            "address": prop("string", "Address", "Adresse"),
                            "mailbox": prop(
                                {"enum": ["patient", "professional"]},
                                "Mailbox: the patient's Mon Espace Santé one, or a professional's",
                                "Messagerie: celle Mon Espace Santé du patient, ou celle "
                                "d'un professionnel",
                            ),
                            "state": prop(
                                {"enum": _STATES},
                                "Outcome: queued (no report yet), delivered (DSN), delayed "
                                "(DSN), failed (DSN, or a read receipt reporting an error: "
                                "a negative answer), read (MDN)",
                                "Résultat: queued (pas encore d'avis), delivered (remis, "
                                "DSN), delayed (retardé, DSN), failed (échec, DSN, ou accusé "
                                "de lecture en erreur: réponse négative), read (lu, MDN)",
                            ),
                            "detail": prop(
                                "string",
                                "Detail: the DSN status code or the MDN disposition; null: "
                                "no report",
                                "Détail: le code d'état du DSN ou la disposition du MDN; "
                                "null: pas d'avis",
                                nullable=True,
                            ),
                            "updated_at": prop(DATETIME, "Updated at", "Mis à jour le"),
                        }
                    ),
                },
                "Recipients: null when the status store has no row for the message",
                "Destinataires: null quand le suivi des envois n'a pas de ligne pour le message",
                nullable=True,
            ),
        }
    ),
    informational=True,
)

RECEIVED = array_of(
    "mssrecv",
    "MSSanté messages received: every document received for the patient and integrated "
    "(with the result of the CI-SIS checks), every message without a document kept for "
    "the patient; read from the journal. A document whose patient was not found is not "
    "here",
    "Messages MSSanté reçus: chaque document reçu pour le patient et intégré (avec le "
    "résultat des contrôles CI-SIS), chaque message sans document conservé pour le "
    "patient; lu dans le journal. Un document dont le patient n'a pas été trouvé n'y est "
    "pas",
    obj(
        {
            "at": JOURNAL_AT,
            "kind": prop(
                {"enum": ["document", "message"]},
                "Kind: document (a CDA in an IHE XDM archive), message (no archive: kept "
                "as received)",
                "Nature: document (un CDA dans une archive IHE XDM), message (sans "
                "archive: conservé tel que reçu)",
            ),
            "message_id": _MESSAGE_ID,
            "document": _DOCUMENT,
            "document_type": _TYPE,
            "level": prop(
                "string",
                "Structure level: N1 (PDF) or N3 (structured)",
                "Niveau: N1 (PDF) ou N3 (structuré)",
                nullable=True,
            ),
            "checks": prop(
                {"enum": ["valid", "invalid"]},
                "CI-SIS checks: valid, invalid (a negative answer); null: not a document",
                "Contrôles CI-SIS: valid, invalid (réponse négative); null: pas un document",
                nullable=True,
            ),
            "check_errors": prop(
                {"type": "integer", "minimum": 0},
                "Check errors: how many (0: none)",
                "Erreurs des contrôles: combien (0: aucune)",
                nullable=True,
            ),
            "parts": prop(
                {"type": "array", "items": {"type": "string"}},
                "Parts: media types of a message's attachments; empty: none; null: a document",
                "Pièces jointes: types de média d'un message; vide: aucune; null: un document",
                nullable=True,
            ),
        }
    ),
    informational=True,
)


def _recipients(status: Any, message_id: str | None) -> list[dict[str, Any]] | None:
    rows = status.of(message_id) if message_id else []
    if not rows:
        return None
    return [
        {
            "address": row.recipient,
            "mailbox": "patient" if row.recipient.endswith(f"@{MES_DOMAIN}") else "professional",
            "state": row.state if row.state in _STATES else QUEUED,
            "detail": row.detail or None,
            "updated_at": row.updated_at,
        }
        for row in rows
    ]


def mss_sections(runtime: Any, patient_id: str, since: dt.datetime | None) -> list[ExportSection]:
    """The patient's ``msssent`` and ``mssrecv`` sections (records at or after ``since``)."""
    from segur_mssante.service import SEND_KIND, service_for

    records = journal_records(runtime, patient_id, since, ("mss.", "outbox.attempt"))

    def sent() -> Iterator[dict[str, Any]]:
        submitted = delivery_outcomes(records(), SEND_KIND, by="key")
        status = service_for(runtime).status
        for record in records():
            if record.action != "mss.send-queued":
                continue
            d = record.details
            message_id = text(d.get("message_id"))
            yield {
                "at": at(record),
                "message_id": message_id,
                "document": text(d.get("document")),
                "document_type": text(d.get("document_type")),
                "submission": submitted.get(message_id, {}).get("state", "pending"),
                "recipients": _recipients(status, message_id),
            }

    def received() -> Iterator[dict[str, Any]]:
        for record in records():
            d = record.details
            if record.action == "mss.document-received":
                kit = d.get("kit")
                yield {
                    "at": at(record),
                    "kind": "document",
                    "message_id": text(d.get("message_id")),
                    "document": text(d.get("document")),
                    "document_type": text(d.get("type")),
                    "level": text(d.get("level")),
                    "checks": kit if kit in ("valid", "invalid") else None,
                    "check_errors": integer(d.get("kit_errors"), minimum=0),
                    "parts": None,
                }
            elif record.action == "mss.message-kept":
                parts = d.get("parts")
                yield {
                    "at": at(record),
                    "kind": "message",
                    "message_id": text(d.get("message_id")),
                    "document": None,
                    "document_type": None,
                    "level": None,
                    "checks": None,
                    "check_errors": None,
                    "parts": [str(p) for p in parts] if isinstance(parts, list) else None,
                }

    return [section("msssent", SENT, sent), section("mssrecv", RECEIVED, received)]
