"""The sections this plugin contributes to the export (``segur_export_sections``): the
host's data about a patient (identity, dispensations, consents) and their audit records;
in the transverse part, the structure and the audit records about no patient.

Documents are the writer's (:mod:`segur_portability.patient`): their metadata point at
their files in the patient's archive. Other plugins add their own sections through the
same hook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from segur_core import convert
from segur_core.exportdata import after, dumps, section
from segur_core.plugin import ExportSection
from segur_portability import schemas

__all__ = ["CONSENT_PURPOSES", "dumps", "patient_sections", "transverse_sections"]

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

    def audit() -> list[Any]:
        return [r.as_dict() for r in runtime.journal.records(patient_id=patient_id, since=since)]

    return [
        section("patient", schemas.PATIENT, patient),
        section("dispens", schemas.DISPENSATIONS, dispensations),
        section("consents", schemas.CONSENTS, consents),
        section("audit", schemas.AUDIT, audit),
    ]


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
