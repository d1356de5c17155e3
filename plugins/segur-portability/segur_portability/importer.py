"""Importing a portability archive into a host: what proves it "exploitable".

The archive is verified first (an altered or incomplete archive is refused). Then, one
patient at a time, the host receives the patient (same local id), their documents as
they were (bytes from the archive, metadata from ``DOCS.JSN``; a structured one's
rendering kept in the data directory, as if it had been rendered there), dispensations
and consents. A patient the host already knows is left untouched and counted: importing
the same archive twice records nothing twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from segur_documents.display import is_structured
from segur_documents.renderings import RenderingStore

from segur_core import convert
from segur_core.model import Consent, Dispensation, DocumentStatus, HealthDocument, Patient
from segur_core.safezip import open_zip
from segur_portability import layout
from segur_portability.errors import ImportRefused
from segur_portability.manifest import read_manifest
from segur_portability.verify import (
    MAX_INNER_BYTES,
    MAX_INNER_MEMBERS,
    MAX_MEMBERS,
    MAX_TOTAL_BYTES,
    verify_archive,
)

__all__ = ["ImportResult", "import_archive"]


@attrs.frozen
class ImportResult:
    """What an import did."""

    patients: int
    skipped: int
    documents: int
    dispensations: int
    consents: int

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _json(inner: Any, name: str) -> list[Any]:
    member = f"{layout.DATA}/{layout.data_name(name)}"
    if member not in set(inner.names()):
        return []
    value = json.loads(inner.read(member))
    return value if isinstance(value, list) else []


def _document(record: dict[str, Any], patient_id: str, content: bytes) -> HealthDocument:
    return HealthDocument(
        id=record["id"],
        patient_id=patient_id,
        type_code=record["type_code"],
        title=record["title"],
        content=content,
        media_type=record["media_type"],
        set_id=record["set_id"],
        version=record["version"],
        replaces=record["replaces"],
        status=DocumentStatus(record["status"]),
        created_at=dt.datetime.fromisoformat(record["created_at"]),
        author_rpps=record["author_rpps"],
        format_code=record["format_code"],
        confidentiality=record["confidentiality"],
    )


def import_archive(
    runtime: Any,
    path: Path,
    *,
    ca_pem_file: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import ``path`` into the runtime's host. Raises :class:`ImportRefused` when the
    archive does not verify."""
    report = verify_archive(path, ca_pem_file=ca_pem_file)
    if not report.ok:
        first = report.problems[0]
        raise ImportRefused(
            f"the archive does not verify ({len(report.problems)} problems; first: "
            f"{first.kind} {first.path})",
            hint="segur export verify ARCHIVE lists them",
        )
    host = runtime.host
    renderings = RenderingStore.of(runtime)
    patients = skipped = documents = dispensations = consents = 0
    with open_zip(path, max_entries=MAX_MEMBERS, max_total_uncompressed=MAX_TOTAL_BYTES) as top:
        manifest = read_manifest(top.read(layout.MANIFEST))
        entries = [e for e in manifest.entries if e.type == "PATIENT"]
        for number, entry in enumerate(entries, start=1):
            data = top.read(entry.name, max_size=MAX_INNER_BYTES)
            with open_zip(
                data, max_entries=MAX_INNER_MEMBERS, max_total_uncompressed=MAX_INNER_BYTES
            ) as inner:
                for raw in _json(inner, "patient"):
                    patient = convert.structure(raw, Patient)
                    if host.get_patient(patient.id) is not None:
                        skipped += 1
                        continue
                    host.save_patient(patient)
                    patients += 1
                    for record in _json(inner, "docs"):
                        content = inner.read(record["file"])
                        host.store_document(_document(record, patient.id, content))
                        documents += 1
                        if record.get("pdf") and is_structured(content):
                            with contextlib.suppress(OSError):  # else rendered on export
                                renderings.put(content, inner.read(record["pdf"]))
                    for raw_d in reversed(_json(inner, "dispens")):  # oldest first
                        host.record_dispensation(convert.structure(raw_d, Dispensation))
                        dispensations += 1
                    for raw_c in _json(inner, "consents"):
                        host.record_consent(convert.structure(raw_c, Consent))
                        consents += 1
            if progress is not None:
                progress(number, len(entries))
    runtime.journal.record(
        action="portability.import",
        details={"patients": patients, "skipped": skipped, "documents": documents},
    )
    return ImportResult(patients, skipped, documents, dispensations, consents)
