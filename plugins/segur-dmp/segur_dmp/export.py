"""The DMP's part of the portability export (``segur_export_sections``): where each of the
patient's documents stands with the DMP (queued, in the DMP, failed, masked, deleted),
from the plugin's status database, with the JSON Schema the data dictionary is made of."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import attrs

from segur_core.exportdata import after
from segur_core.plugin import ExportSection

__all__ = ["SCHEMA", "dmp_section"]


def _field(kind: Any, en: str, fr: str) -> dict[str, Any]:
    return {"type": kind, "title": en, "x-title-fr": fr}


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:segur:portability:dmp",
    "title": "DMP delivery",
    "x-title-fr": "Alimentation du DMP",
    "description": "where each of the patient's documents stands with the DMP (Mon Espace "
    "Santé); a document never sent is absent",
    "x-description-fr": "où en est chaque document du patient avec le DMP (Mon Espace "
    "Santé) ; un document jamais envoyé est absent",
    "type": "array",
    "x-informational": True,  # the DMP status of this system: not restored by segur import
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["document_id", "patient_id", "state", "delivery_id", "detail", "updated_at"],
        "properties": {
            "document_id": _field("string", "Document id", "Identifiant du document"),
            "patient_id": _field("string", "Patient (local id)", "Patient (identifiant local)"),
            "state": {
                "enum": ["queued", "in-dmp", "failed", "masked", "deleted"],
                "title": "State",
                "x-title-fr": "État",
                "description": "queued, in-dmp, failed, masked or deleted",
                "x-description-fr": "en attente, dans le DMP, en échec, masqué ou supprimé",
            },
            "delivery_id": _field(["integer", "null"], "Outbox delivery", "Envoi (file d'attente)"),
            "detail": _field(["string", "null"], "Detail: why it failed", "Détail"),
            "updated_at": _field("string", "Updated at", "Mis à jour le"),
        },
    },
}


def dmp_section(runtime: Any, patient_id: str, since: dt.datetime | None = None) -> ExportSection:
    """The section of one patient: their rows of ``dmp-status.sqlite`` (those updated at
    or after ``since``)."""
    from segur_dmp.service import service_for

    def files() -> Iterator[tuple[str, bytes]]:
        rows = [
            attrs.asdict(r)
            for r in service_for(runtime).status.for_patient(patient_id)
            if after(dt.datetime.fromisoformat(r.updated_at), since)
        ]
        yield "DMP.JSN", json.dumps(rows, ensure_ascii=False).encode()

    return ExportSection("dmp", SCHEMA["description"], files, schema=SCHEMA)
