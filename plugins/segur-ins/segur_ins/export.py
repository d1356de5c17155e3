"""The INS part of the portability export (``segur_export_sections``): the history of the
patient's identity (every change of its RNIV status, with its date and source), the
identity-document checks, and the INSi calls about the patient.

segur-ins keeps nothing per patient: the host holds the identity (``PATIENT.JSN`` has the
current status, INS and former INS), and every change, check and call is journaled.
These sections are read from the patient's journal records (``ins.*``, ``insi.*``), in
the order they were written; they are a history of this system, kept in the archive only
(``segur import`` gives the other host the identity itself, not its history).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Any

from segur_core.exportdata import (
    JOURNAL_AT,
    array_of,
    at,
    journal_records,
    obj,
    prop,
    section,
    text,
)
from segur_core.model import IdentityAttribute, IdentityStatus, ReadingSource
from segur_core.plugin import ExportSection
from segur_ins.lookup import OPERATIONS
from segur_ins.status import (
    AttributeCleared,
    AttributeSet,
    DocumentChecked,
    HighTrustDocument,
    InsiRetrieved,
    InsMismatch,
    TraitsModified,
)
from segur_ins.traits import StrictTrait

__all__ = ["CHECKS", "HISTORY", "INSI_CALLS", "ins_sections"]

#: Where an identity change came from (``source`` of the ``ins.identity`` record).
SOURCES = ("insi", "card", "document-check", "insi-verification")
_EVENTS = tuple(
    e.kind
    for e in (
        InsiRetrieved,
        DocumentChecked,
        TraitsModified,
        AttributeSet,
        AttributeCleared,
        InsMismatch,
    )
)
_STATUSES = [str(s) for s in IdentityStatus]
_READINGS = [str(r) for r in ReadingSource]
_DOCUMENTS = [str(d) for d in HighTrustDocument]
_CHECKED = re.compile(r"^checked against (\S+)$")
_CR = re.compile(r"^[0-9]{2}$")
_UNKNOWN = (
    "null: not recorded (a record written before this field was, or a value this version "
    "does not know)"
)
_INCONNU = (
    "null: non enregistré (un enregistrement antérieur à ce champ, ou une valeur que "
    "cette version ne connaît pas)"
)


def _coded(en: str, fr: str, values: Iterable[str], **extra: Any) -> dict[str, Any]:
    """A coded property: one of ``values``, or ``null`` when not recorded."""
    return prop(
        {"enum": list(values)}, f"{en}; {_UNKNOWN}", f"{fr}; {_INCONNU}", nullable=True, **extra
    )


def _status(en: str, fr: str) -> dict[str, Any]:
    return _coded(
        f"{en}: PROV provisional, RECUP recovered, VALI validated, QUAL qualified",
        f"{fr}: PROV provisoire, RECUP récupérée, VALI validée, QUAL qualifiée",
        _STATUSES,
    )


_READING = _coded(
    "Reading: where the traits came from, vitale-card (carte Vitale), apcv (appli carte "
    "Vitale) or manual (typed by the pharmacist); null also when no reading caused it (a "
    "search by the stored traits, a verification, a check)",
    "Lecture: d'où viennent les traits, vitale-card (carte Vitale), apcv (appli carte "
    "Vitale) ou manual (saisis par le pharmacien); null aussi quand aucune lecture ne l'a "
    "causé (recherche sur les traits enregistrés, vérification, contrôle)",
    _READINGS,
)
_DOCUMENT = _coded(
    "Document: the high-trust identity document checked, CN identity card, PA passport, "
    "CS residence permit, eCN electronic identity card, IN digital identity, AV appli "
    "carte Vitale...",
    "Pièce: le dispositif d'identité à haut niveau de confiance contrôlé, CN carte "
    "nationale d'identité, PA passeport, CS titre de séjour, eCN CNI électronique, IN "
    "identité numérique, AV appli carte Vitale...",
    _DOCUMENTS,
)
_REASON = prop(
    "string",
    "Reason: what the change or refusal was, in words",
    "Motif: le changement ou le refus, en clair",
    nullable=True,
)

HISTORY = array_of(
    "identhis",
    "Identity history: every change of the patient's identity in this pharmacy (RNIV "
    "status, INS, attributes, strict traits), oldest first, with its date and source; read "
    "from the journal (ins.identity records)",
    "Historique de l'identité: chaque changement de l'identité du patient dans cette "
    "pharmacie (statut RNIV, INS, attributs, traits stricts), du plus ancien au plus "
    "récent, avec sa date et sa source; lu dans le journal (enregistrements ins.identity)",
    obj(
        {
            "at": JOURNAL_AT,
            "outcome": prop(
                {"enum": ["ok", "error"]},
                "Outcome: ok, or error when the software did not save the change",
                "Résultat: ok, ou error quand le logiciel n'a pas enregistré le changement",
            ),
            "source": _coded(
                "Source: insi (INSi search), card (a reading that INSi did not qualify), "
                "document-check (identity document), insi-verification (INSi verification "
                "at an act)",
                "Source: insi (recherche INSi), card (une lecture qu'INSi n'a pas qualifiée), "
                "document-check (pièce d'identité), insi-verification (vérification INSi "
                "lors d'un acte)",
                SOURCES,
            ),
            "reading": _READING,
            "event": _coded(
                "Event: insi-retrieved, document-checked, traits-modified, attribute-set, "
                "attribute-cleared, ins-mismatch; null also for the creation of a "
                "provisional identity from a reading",
                "Événement: insi-retrieved (INS récupéré), document-checked (pièce "
                "contrôlée), traits-modified, attribute-set, attribute-cleared, "
                "ins-mismatch; null aussi pour la création d'une identité provisoire à "
                "partir d'une lecture",
                _EVENTS,
            ),
            "from_status": _status("Status before", "Statut avant"),
            "to_status": _status("Status after", "Statut après"),
            "attributes": prop(
                {"type": "array", "items": {"enum": [str(a) for a in IdentityAttribute]}},
                f"Attributes after: douteuse, fictive, homonyme; empty: none; {_UNKNOWN}",
                f"Attributs après: douteuse, fictive, homonyme; vide: aucun; {_INCONNU}",
                nullable=True,
            ),
            "ins_changed": prop(
                "boolean",
                f"INS changed: false, the INS stayed the same; {_UNKNOWN}",
                f"INS changé: false, l'INS est resté le même; {_INCONNU}",
                nullable=True,
            ),
            "traits_changed": prop(
                {"type": "array", "items": {"enum": [str(t) for t in StrictTrait]}},
                f"Strict traits changed: their names; empty: none; {_UNKNOWN}",
                f"Traits stricts changés: leurs noms; vide: aucun; {_INCONNU}",
                nullable=True,
            ),
            "document": _DOCUMENT,
            "reason": _REASON,
            "insi_message": prop(
                "string",
                "INSi message: id of the INSi answer that caused the change (its call "
                "appears in INSI.JSN when it was made for a known patient)",
                "Message INSi: identifiant de la réponse INSi qui a causé le changement",
                nullable=True,
            ),
        }
    ),
    informational=True,
)

CHECKS = array_of(
    "idcheck",
    "Identity-document checks: every check of the patient's identity against a "
    "high-trust document (identity card, passport, appli carte Vitale...), accepted or "
    "refused; read from the journal",
    "Contrôles de pièce d'identité: chaque contrôle de l'identité du patient sur un "
    "dispositif à haut niveau de confiance (CNI, passeport, appli carte Vitale...), "
    "accepté ou refusé; lu dans le journal",
    obj(
        {
            "at": JOURNAL_AT,
            "document": _DOCUMENT,
            "reading": _READING,
            "outcome": prop(
                {"enum": ["checked", "refused", "error"]},
                "Outcome: checked; refused (the document's strict traits differ, a "
                "doubtful or fictitious identity: a negative answer); error (not saved)",
                "Résultat: checked (contrôlée); refused (les traits stricts de la pièce "
                "diffèrent, identité douteuse ou fictive: réponse négative); error (non "
                "enregistré)",
            ),
            "from_status": _status("Status before", "Statut avant"),
            "to_status": _status("Status after", "Statut après"),
            "reason": _REASON,
        }
    ),
    informational=True,
)

INSI_CALLS = array_of(
    "insi",
    "INSi calls: every search of the INS teleservice about the patient, every INSi "
    "verification at an act and every qualification refused before a call; read from the "
    "journal. The search that identified a new patient ran before the patient existed: "
    "IDENTHIS.JSN links it (insi_message)",
    "Appels INSi: chaque recherche du téléservice INSi concernant le patient, chaque "
    "vérification INSi lors d'un acte et chaque qualification refusée avant l'appel; lu "
    "dans le journal. La recherche qui a identifié un nouveau patient a eu lieu avant "
    "sa création: IDENTHIS.JSN la relie (insi_message)",
    obj(
        {
            "at": JOURNAL_AT,
            "action": prop(
                {"enum": ["search", "verify", "qualify"]},
                "Action: search (an INSi call), verify (a verification's result), qualify "
                "(a qualification refused or failed before an answer)",
                "Action: search (un appel INSi), verify (le résultat d'une vérification), "
                "qualify (une qualification refusée ou en échec avant une réponse)",
            ),
            "outcome": prop(
                {"enum": ["ok", "error", "refused", "mismatch"]},
                "Outcome: ok; error (INSi unreachable or in error); refused; mismatch "
                "(INSi no longer confirms the INS)",
                "Résultat: ok; error (INSi injoignable ou en erreur); refused (refusé); "
                "mismatch (INSi ne confirme plus l'INS)",
            ),
            "operation": _coded(
                "Operation: INSi operation called",
                "Opération: opération INSi appelée",
                OPERATIONS,
            ),
            "cr": prop(
                {"type": "string", "pattern": "^[0-9]{2}$"},
                "Answer code: 00 one identity found, 01 none, 02 several; null: no answer",
                "Code retour: 00 une identité trouvée, 01 aucune, 02 plusieurs; null: pas "
                "de réponse",
                nullable=True,
            ),
            "error": prop(
                "string",
                "Error: its code; null: none",
                "Erreur: son code; null: aucune",
                nullable=True,
            ),
            "result": _coded(
                "Verification result: confirmed, mismatch",
                "Résultat de la vérification: confirmed (confirmée), mismatch (discordance)",
                ["confirmed", "mismatch"],
            ),
            "differences": prop(
                {"type": "array", "items": {"type": "string"}},
                "Differences: strict traits INSi gives differently; empty: none; null: "
                "not a verification",
                "Différences: traits stricts qu'INSi donne autrement; vide: aucune; null: "
                "pas une vérification",
                nullable=True,
            ),
            "decision": prop(
                "string",
                "Pharmacist's decision after a mismatch: keep, doubtful",
                "Décision du pharmacien après une discordance: keep, doubtful",
                nullable=True,
            ),
            "reason": _REASON,
            "message_id": prop(
                "string", "INSi message id", "Identifiant du message INSi", nullable=True
            ),
        }
    ),
    informational=True,
)


def _known(value: Any, values: Iterable[str]) -> str | None:
    return value if isinstance(value, str) and value in values else None


def _names(value: Any, values: Iterable[str]) -> list[str] | None:
    if not isinstance(value, list):
        return None
    allowed = set(values)
    return [v for v in value if isinstance(v, str) and v in allowed]


def _document(details: dict[str, Any]) -> str | None:
    found = details.get("document")
    if found is None:  # recorded before the document was: the reason names it
        match = _CHECKED.match(str(details.get("reason") or ""))
        found = match.group(1) if match else None
    return _known(found, _DOCUMENTS)


def _change(record: Any) -> dict[str, Any]:
    d = record.details
    return {
        "at": at(record),
        "outcome": "error" if record.outcome == "error" else "ok",
        "source": _known(d.get("source"), SOURCES),
        "reading": _known(d.get("reading"), _READINGS),
        "event": _known(d.get("event"), _EVENTS),
        "from_status": _known(d.get("from"), _STATUSES),
        "to_status": _known(d.get("to"), _STATUSES),
        "attributes": _names(d.get("attributes"), [str(a) for a in IdentityAttribute]),
        "ins_changed": d["ins_changed"] if isinstance(d.get("ins_changed"), bool) else None,
        "traits_changed": _names(d.get("traits_changed"), [str(t) for t in StrictTrait]),
        "document": _document(d) if d.get("event") == DocumentChecked.kind else None,
        "reason": text(d.get("reason")),
        "insi_message": text(d.get("message_id")),
    }


def _check(record: Any) -> dict[str, Any] | None:
    d = record.details
    if record.action == "ins.document-check":
        status = _known(d.get("status"), _STATUSES)
        return {
            "at": at(record),
            "document": _known(d.get("document"), _DOCUMENTS),
            "reading": None,
            "outcome": "refused",
            "from_status": status,
            "to_status": status,  # refused: unchanged
            "reason": text(d.get("reason")),
        }
    if record.action == "ins.identity" and d.get("event") == DocumentChecked.kind:
        return {
            "at": at(record),
            "document": _document(d),
            "reading": _known(d.get("reading"), _READINGS),
            "outcome": "error" if record.outcome == "error" else "checked",
            "from_status": _known(d.get("from"), _STATUSES),
            "to_status": _known(d.get("to"), _STATUSES),
            "reason": text(d.get("reason")),
        }
    return None


def _call(record: Any) -> dict[str, Any] | None:
    d = record.details
    action = {"insi.search": "search", "ins.verify": "verify", "ins.qualify": "qualify"}.get(
        record.action
    )
    if action is None:
        return None
    outcome = record.outcome if record.outcome in ("ok", "error", "refused", "mismatch") else "ok"
    differences = d.get("differences")
    cr = text(d.get("cr"))
    return {
        "at": at(record),
        "action": action,
        "outcome": outcome,
        "operation": _known(d.get("operation"), OPERATIONS),
        "cr": cr if _CR.match(cr or "") else None,
        "error": str(d["error"]) if d.get("error") else None,
        "result": _known(d.get("result"), ["confirmed", "mismatch"]),
        "differences": [str(x) for x in differences] if isinstance(differences, list) else None,
        "decision": text(d.get("decision")),
        "reason": text(d.get("reason")),
        "message_id": text(d.get("message_id")),
    }


def ins_sections(runtime: Any, patient_id: str, since: dt.datetime | None) -> list[ExportSection]:
    """The patient's ``identhis``, ``idcheck`` and ``insi`` sections (records at or after
    ``since``)."""

    records = journal_records(runtime, patient_id, since, ("ins.", "insi."))

    def history() -> Iterator[dict[str, Any]]:
        return (_change(r) for r in records() if r.action == "ins.identity")

    def checks() -> Iterator[dict[str, Any]]:
        return (c for c in map(_check, records()) if c is not None)

    def calls() -> Iterator[dict[str, Any]]:
        return (c for c in map(_call, records()) if c is not None)

    return [
        section("identhis", HISTORY, history),
        section("idcheck", CHECKS, checks),
        section("insi", INSI_CALLS, calls),
    ]
