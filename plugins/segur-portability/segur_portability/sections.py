"""The sections this plugin contributes to the export (``segur_export_sections``): the
host's data about a patient (identity, dispensations, consents and their history) and
their audit records; in the transverse part, the structure and the audit records about no
patient.

Documents are the writer's (:mod:`segur_portability.patient`): their metadata point at
their files in the patient's archive. Other plugins add their own sections through the
same hook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from segur_core import convert
from segur_core.exportdata import after, at, dumps, section, text
from segur_core.plugin import ExportSection
from segur_portability import schemas

__all__ = [
    "CONSENT_PURPOSES",
    "dumps",
    "journaled_consents",
    "patient_sections",
    "transverse_sections",
]

#: The consent purposes the host is asked about (the host contract gives the latest
#: record per purpose): the DMP access and the Dossier Pharmaceutique.
CONSENT_PURPOSES = ("dmp-access", "dp")


def patient_sections(
    runtime: Any, patient_id: str, since: dt.datetime | None
) -> list[ExportSection]:
    """The host's data about ``patient_id`` and the patient's audit records."""
    host = runtime.host

    def patient() -> list[Any]:
        found = host.get_patient(patient_id)
        return [convert.unstructure(found)] if found is not None else []

    def dispensations() -> list[Any]:
        return [convert.unstructure(d) for d in host.dispensations(patient_id, since)]

    def consents() -> list[Any]:
        found = (host.consent(patient_id, purpose) for purpose in CONSENT_PURPOSES)
        return [
            convert.unstructure(c) for c in found if c is not None and after(c.recorded_at, since)
        ]

    def consent_history() -> list[Any]:
        kept = host.consent_history(patient_id)
        if kept is not None:
            return [
                {**convert.unstructure(c), "source": "host"}
                for c in kept
                if after(c.recorded_at, since)
            ]
        return journaled_consents(runtime.journal.records(patient_id=patient_id, since=since))

    def audit() -> list[Any]:
        return [r.as_dict() for r in runtime.journal.records(patient_id=patient_id, since=since)]

    return [
        section("patient", schemas.PATIENT, patient),
        section("dispens", schemas.DISPENSATIONS, dispensations),
        section("consents", schemas.CONSENTS, consents),
        section("conshist", schemas.CONSENT_HISTORY, consent_history),
        section("audit", schemas.AUDIT, audit),
    ]


#: The journal's consent changes (segur-dmp's API, segur-dp) and the purpose of each.
_CONSENT_ACTIONS = {"dmp.consent": "dmp-access", "dp.consent": "dp"}


def journaled_consents(records: Iterable[Any]) -> list[dict[str, Any]]:
    """The consent changes among a patient's journal records, as ``CONSHIST.JSN``
    records (a record without its answer, damaged, is left out)."""
    return [
        _journaled(r)
        for r in records
        if r.action in _CONSENT_ACTIONS and isinstance((r.details or {}).get("granted"), bool)
    ]


def _journaled(record: Any) -> dict[str, Any]:
    """A consent change as the journal recorded it (what it lacks is ``null``)."""
    details = record.details or {}
    purpose = details.get("purpose")
    by = details.get("recorded_by", record.actor)
    return {
        "patient_id": record.patient_id,
        "purpose": purpose if isinstance(purpose, str) else _CONSENT_ACTIONS[record.action],
        "granted": details["granted"],
        "recorded_at": at(record),
        "recorded_by": text(by),
        "note": None,
        "source": "journal",
    }


def transverse_sections(runtime: Any, since: dt.datetime | None) -> list[ExportSection]:
    """The structure and pharmacist, and the audit records about no single patient."""
    host = runtime.host

    def structure() -> list[Any]:
        return [
            {
                "structure": convert.unstructure(host.structure()),
                "practitioner": convert.unstructure(host.practitioner()),
            }
        ]

    def audit() -> Iterator[Any]:  # read as a stream: the journal may be large
        for record in runtime.journal.stream(since=since, about_no_patient=True):
            yield record.as_dict()

    return [
        section("struct", schemas.STRUCTURE, structure),
        section("audit", schemas.AUDIT, audit),
    ]
