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

__all__ = ["GENESIS", "canonical", "canonical_details", "link_hash"]

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
    if not details:
        return "{}"
    # Round-trip once so that what is stored is exactly what is hashed later.
    normalised = json.loads(json.dumps(details, default=str, allow_nan=False))
    return canonical(normalised).decode("utf-8")


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
