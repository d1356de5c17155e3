"""The documents' part of the portability export (``segur_export_sections``): the
patient's vaccinations as structured data, read from the notes de vaccination and
vaccination records the host keeps (built here or received), with the JSON Schema the
data dictionary is made of.

The documents themselves are in the patient's archive; ``segur import`` restores them, and
this section is read from them again: it is informational, never imported on its own.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from segur_core.errors import InputError
from segur_core.exportdata import DATETIME, after, array_of, obj, prop, section
from segur_core.plugin import ExportSection
from segur_documents import codes
from segur_documents.vaccinations import VACCINATION_TYPES, read_vaccinations

if TYPE_CHECKING:
    from segur_core.model import HealthDocument

__all__ = ["VACCINATIONS", "vaccination_section"]

log = logging.getLogger("segur.documents")

_DAY = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}

VACCINATIONS = array_of(
    "vaccins",
    "Vaccinations: every vaccination the patient's notes de vaccination and vaccination "
    "records (VAC-NOTE, VAC; built in this pharmacy or received) hold, read from their "
    "structured entries, one record per vaccination; empty: no such document",
    "Vaccinations: chaque vaccination que contiennent les notes de vaccination et "
    "carnets de vaccination du patient (VAC-NOTE, VAC ; rédigés dans cette pharmacie ou "
    "reçus), lue dans leurs entrées structurées, un enregistrement par vaccination ; "
    "vide : aucun tel document",
    obj(
        {
            "document_id": prop(
                "string",
                "Document: id of the note or record that holds it (DOCS.JSN)",
                "Document: identifiant de la note ou du carnet qui la contient (DOCS.JSN)",
            ),
            "document_status": prop(
                {"enum": ["draft", "validated", "replaced", "received"]},
                "Status of the document: a replaced one was corrected by a later version",
                "Statut du document: un document remplacé a été corrigé par une version ultérieure",
            ),
            "document_created_at": prop(DATETIME, "Note created at", "Note créée le"),
            "administered_on": prop(
                _DAY,
                "Vaccination date: YYYY-MM-DD; null: the note gives no full date",
                "Date de vaccination: AAAA-MM-JJ; null: la note ne donne pas de date complète",
                nullable=True,
            ),
            "given": prop(
                "boolean",
                "Given: false when the note records that the vaccination was not given "
                "(negationInd, a negative answer)",
                "Administrée: false quand la note consigne que la vaccination n'a pas été "
                "faite (negationInd, réponse négative)",
            ),
            "vaccine_code": prop(
                "string",
                "Vaccine code: CIS code (BDPM) in the notes written here",
                "Code du vaccin: code CIS (BDPM) dans les notes rédigées ici",
                nullable=True,
            ),
            "vaccine_system": prop(
                "string",
                f"Vaccine code system: OID ({codes.CIS} for CIS)",
                f"Système du code du vaccin: OID ({codes.CIS} pour le CIS)",
                nullable=True,
            ),
            "vaccine_label": prop("string", "Vaccine", "Vaccin", nullable=True),
            "atc": prop("string", "ATC class", "Classe ATC", nullable=True),
            "atc_label": prop("string", "ATC label", "Libellé ATC", nullable=True),
            "cip13": prop(
                "string", "Presentation: CIP13 code", "Présentation: code CIP13", nullable=True
            ),
            "lot": prop("string", "Lot number", "Numéro de lot", nullable=True),
            "route": prop(
                "string",
                "Route: EDQM code (20035000 intramuscular, 20066000 subcutaneous...)",
                "Voie d'administration: code EDQM (20035000 intramusculaire, 20066000 "
                "sous-cutanée...)",
                nullable=True,
            ),
            "route_label": prop("string", "Route label", "Libellé de la voie", nullable=True),
            "site": prop(
                "string",
                "Site: SNOMED CT code of the body site",
                "Site d'injection: code SNOMED CT de la région",
                nullable=True,
            ),
            "site_label": prop("string", "Site label", "Libellé du site", nullable=True),
            "dose_rank": prop(
                {"type": "integer", "minimum": 1},
                "Dose rank",
                "Rang de la dose",
                nullable=True,
            ),
            "act": prop(
                {"enum": sorted(codes.ACT_CODES)},
                "Kind of act: INITIMMUNIZ first series, BOOSTER, IMMUNIZ not specified; "
                "null: not given, or a code outside the CI-SIS value set (see the note)",
                "Type d'acte: INITIMMUNIZ 1ère série, BOOSTER rappel, IMMUNIZ sans "
                "précision; null: absent, ou un code hors du jeu de valeurs CI-SIS (voir "
                "la note)",
                nullable=True,
            ),
        }
    ),
    informational=True,
)


def _records(
    runtime: Any,
    patient_id: str,
    since: dt.datetime | None,
    documents: Sequence[HealthDocument] | None,
) -> Iterator[dict]:
    if documents is None:
        documents = runtime.host.list_documents(patient_id)
    for document in documents:
        if document.type_code not in VACCINATION_TYPES or not after(document.created_at, since):
            continue
        try:
            entries = read_vaccinations(document.content)
        except InputError:
            log.warning("a note de vaccination could not be read: its vaccinations are left out")
            continue
        created = document.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.UTC)
        for entry in entries:
            yield {
                "document_id": document.id,
                "document_status": str(document.status),
                "document_created_at": created.isoformat(),
                **attrs.asdict(entry),
            }


def vaccination_section(
    runtime: Any,
    patient_id: str,
    since: dt.datetime | None,
    documents: Sequence[HealthDocument] | None = None,
) -> ExportSection:
    """The ``vaccins`` section of one patient: their VAC-NOTE and VAC documents created
    at or after ``since``, among ``documents`` when the export has read them already
    (else listed from the host when the section is written)."""
    return section("vaccins", VACCINATIONS, lambda: _records(runtime, patient_id, since, documents))
