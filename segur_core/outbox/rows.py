"""A delivery as JSON-ready data, as ``segur outbox --json`` and ``segur serve`` show it."""

from __future__ import annotations

from typing import Any

__all__ = ["delivery_row"]


def delivery_row(delivery: Any) -> dict[str, Any]:
    """A delivery as JSON-ready data (no payload, no patient identifier)."""
    return {
        "id": delivery.id,
        "kind": delivery.kind,
        "key": delivery.key,
        "state": str(delivery.state),
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "result": delivery.result,
        "created_at": delivery.created_at.isoformat() if delivery.created_at else None,
        "settled_at": delivery.settled_at.isoformat() if delivery.settled_at else None,
        "has_patient": delivery.patient_id is not None,
    }
