"""The Dossier Pharmaceutique's part of the portability export (``segur_export_sections``):
when the patient's DP was consulted, how deep and with what outcome, when it was opened
(or the patient's refusal recorded), and the dispensations written into it.

segur-dp keeps nothing per patient, and must not: what the DP shows (dispensations by
other pharmacies) may only be consulted, never kept, so the lines themselves are in no
section. Both sections are read from the patient's journal records (``dp.*`` and the
outbox's attempts at writing into the DP); they are a history of this system, kept in
the archive only. The dispensations themselves are the host's (``DISPENS.JSN``).
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
)
from segur_core.plugin import ExportSection
from segur_dp.depth import Category
from segur_dp.service import RECORD_KIND

__all__ = ["CONSULTATIONS", "RECORDS", "dp_sections"]

_ACTIONS = {"dp.history": "history", "dp.create": "create", "dp.consent-missing": "consent"}
_MONTHS = {"type": "integer", "minimum": 1}

CONSULTATIONS = array_of(
    "dpconsul",
    "DP consultations: every consultation of the patient's Dossier Pharmaceutique (when, "
    "how many months back per category, outcome, how many lines were shown), every "
    "opening of the DP or refusal recorded, every access refused for want of consent; "
    "read from the journal. What the DP showed is not kept (the DP may only be consulted)",
    "Consultations du DP: chaque consultation du Dossier Pharmaceutique du patient (date, "
    "profondeur en mois par catégorie, résultat, nombre de lignes affichées), chaque "
    "ouverture du DP ou refus enregistré, chaque accès refusé faute de consentement; lu "
    "dans le journal. Ce que le DP a affiché n'est pas conservé (le DP se consulte "
    "seulement)",
    obj(
        {
            "at": JOURNAL_AT,
            "action": prop(
                {"enum": sorted(set(_ACTIONS.values()))},
                "Action: history (consultation), create (DP opened or refusal recorded), "
                "consent (access refused: no consent recorded, or an opposition)",
                "Action: history (consultation), create (ouverture du DP ou refus "
                "enregistré), consent (accès refusé: pas de consentement enregistré, ou "
                "opposition)",
            ),
            "outcome": prop(
                {"enum": ["ok", "failed", "refused"]},
                "Outcome: ok; failed (the DP did not answer); refused (the patient "
                "refused, or no consent: a negative answer)",
                "Résultat: ok; failed (le DP n'a pas répondu); refused (le patient a "
                "refusé, ou pas de consentement: réponse négative)",
            ),
            "depth_months": prop(
                obj(
                    {
                        str(c): prop(_MONTHS, f"{c.value}: months", f"{c.value}: mois")
                        for c in Category
                    }
                ),
                "Depth: months of history asked per category (ordinary, biological, "
                "vaccine); null: not a consultation",
                "Profondeur: mois d'historique demandés par catégorie (ordinaire, "
                "biologique, vaccin); null: pas une consultation",
                nullable=True,
            ),
            "lines": prop(
                {"type": "integer", "minimum": 0},
                "Lines shown: how many (0: the DP had none); null: not a consultation, "
                "or it failed",
                "Lignes affichées: combien (0: le DP n'en avait aucune); null: pas une "
                "consultation, ou en échec",
                nullable=True,
            ),
            "key": prop(
                {"enum": ["nir", "ndp"]},
                "Read by: the NIR (carte Vitale, INS) or the DP number",
                "Lu par: le NIR (carte Vitale, INS) ou le numéro de DP",
                nullable=True,
            ),
            "dossier": prop(
                {"enum": ["created", "exists", "refused"]},
                "DP: created, already existed, or the patient's refusal recorded; null: "
                "not an opening",
                "DP: créé, existait déjà, ou refus du patient enregistré; null: pas une ouverture",
                nullable=True,
            ),
            "error": prop(
                "string",
                "Error: its kind; null: none",
                "Erreur: sa nature; null: aucune",
                nullable=True,
            ),
        }
    ),
    informational=True,
)

RECORDS = array_of(
    "dpdisp",
    "Dispensations written into the DP: every dispensation of this pharmacy queued for "
    "the patient's DP, once each, and what became of it (the dispensation itself is in "
    "DISPENS.JSN); read from the journal",
    "Dispensations inscrites au DP: chaque dispensation de cette pharmacie mise en file "
    "pour le DP du patient, une fois chacune, et ce qu'elle est devenue (la dispensation "
    "elle-même est dans DISPENS.JSN); lu dans le journal",
    obj(
        {
            "at": JOURNAL_AT,
            "delivery": prop(
                {"enum": list(DELIVERY_STATES)},
                "Writing: pending (queued, or being retried), delivered, dead (given up)",
                "Inscription: pending (en attente ou en cours de nouvel essai), delivered "
                "(inscrite), dead (abandonnée)",
            ),
            "attempts": prop(
                "integer",
                "Attempts: writing attempts made; null: none yet",
                "Essais: tentatives faites; null: aucune encore",
                nullable=True,
            ),
            "settled_at": prop(
                DATETIME,
                "Settled at: when it was written or given up; null: not yet",
                "Réglée le: quand elle a été inscrite ou abandonnée; null: pas encore",
                nullable=True,
            ),
        }
    ),
    informational=True,
)


def _depth(value: Any) -> dict[str, int] | None:
    if not isinstance(value, dict):
        return None
    months = {str(c): value.get(str(c)) for c in Category}
    if all(isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in months.values()):
        return months  # type: ignore[return-value]
    return None


def _consultation(record: Any) -> dict[str, Any]:
    d = record.details
    outcome = record.outcome if record.outcome in ("failed", "refused") else "ok"
    lines = d.get("lines")
    return {
        "at": at(record),
        "action": _ACTIONS[record.action],
        "outcome": outcome,
        "depth_months": _depth(d.get("depth_months")),
        "lines": integer(lines, minimum=0),
        "key": d.get("by") if d.get("by") in ("nir", "ndp") else None,
        "dossier": d.get("status") if d.get("status") in ("created", "exists", "refused") else None,
        "error": d.get("error") if isinstance(d.get("error"), str) else None,
    }


def dp_sections(runtime: Any, patient_id: str, since: dt.datetime | None) -> list[ExportSection]:
    """The patient's ``dpconsul`` and ``dpdisp`` sections (records at or after ``since``)."""
    records = journal_records(runtime, patient_id, since, ("dp.", "outbox.attempt"))

    def consultations() -> Iterator[dict[str, Any]]:
        return (_consultation(r) for r in records() if r.action in _ACTIONS)

    def written() -> Iterator[dict[str, Any]]:
        outcomes = delivery_outcomes(records(), RECORD_KIND)
        seen: set[int] = set()
        for record in records():
            ident = record.details.get("delivery")
            if record.action != "dp.dispensation-queued" or not isinstance(ident, int):
                continue
            if ident in seen:  # queued again: the same delivery, written once
                continue
            seen.add(ident)
            outcome = outcomes.get(ident, {})
            yield {
                "at": at(record),
                "delivery": outcome.get("state", "pending"),
                "attempts": outcome.get("attempts"),
                "settled_at": outcome.get("settled_at"),
            }

    return [
        section("dpconsul", CONSULTATIONS, consultations),
        section("dpdisp", RECORDS, written),
    ]
