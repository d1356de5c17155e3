"""The hash chain of the audit journal: canonical serialisation and SHA-256 links.

Each record's hash covers who, when, which patient, what action, which service, the
outcome, the details and the previous record's hash. The record number is not hashed,
so a record moved to another place still matches its own hash and verification can
tell a reordering from a modification.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["GENESIS", "canonical", "canonical_details", "link_hash", "link_hash_canonical"]

#: The "previous hash" of the first record.
GENESIS = "0" * 64

#: The fields a record hash covers, in their canonical order (the serialisation sorts keys).
HASHED_FIELDS = ("actor", "at", "patient_id", "action", "service", "outcome", "details")


def canonical(value: Any) -> bytes:
    """The canonical bytes of a JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_details(details: dict[str, Any] | None) -> str:
    """The details as stored: canonical JSON text (values JSON cannot hold become text)."""
    return normalised_details(details)[0]


def normalised_details(details: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The canonical text of the details and the JSON value it holds (what reading the
    record back gives), from one round-trip."""
    if not details:
        return "{}", {}
    # Round-trip once so that what is stored is exactly what is hashed later.
    normalised = json.loads(json.dumps(details, default=str, allow_nan=False))
    return canonical(normalised).decode("utf-8"), normalised


def link_hash(
    *,
    actor: str | None,
    at: str,
    patient_id: str | None,
    action: str,
    service: str | None,
    outcome: str,
    details: str,
    prev_hash: str,
) -> str:
    """The SHA-256 (hex) of one record's canonical serialisation chained to ``prev_hash``."""
    body = {
        "actor": actor,
        "at": at,
        "patient_id": patient_id,
        "action": action,
        "service": service,
        "outcome": outcome,
        "details": json.loads(details),
        "prev": prev_hash,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


_text = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def link_hash_canonical(
    *,
    actor: str | None,
    at: str,
    patient_id: str | None,
    action: str,
    service: str | None,
    outcome: str,
    details: str,
    prev_hash: str,
) -> str:
    """:func:`link_hash` for ``details`` already in canonical form (what
    :func:`canonical_details` returns): the same bytes, written field by field instead
    of parsing the details back. Verification keeps using :func:`link_hash`, which does
    not trust the stored text."""
    body = (
        f'{{"action":{_text(action)},"actor":{_text(actor)},"at":{_text(at)},'
        f'"details":{details},"outcome":{_text(outcome)},"patient_id":{_text(patient_id)},'
        f'"prev":{_text(prev_hash)},"service":{_text(service)}}}'
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
