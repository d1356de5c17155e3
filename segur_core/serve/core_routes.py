"""The core's own routes: health, plugins, the outbox and the audit journal.

Readiness and the OpenAPI document belong to the application itself (they read its
state) and are declared in :mod:`segur_core.serve.app`.
"""

from __future__ import annotations

from typing import Any

from segur_core._version import __version__
from segur_core.serve.routes import ApiCall, ApiError, ApiRoute, object_schema

__all__ = ["core_routes"]

_ID = {"type": "string", "pattern": "^[0-9]{1,18}$"}
_STATES = ["pending", "in-flight", "delivered", "dead"]


def health(call: ApiCall) -> dict[str, Any]:
    """The service is up (it may still be warming up: see ``/v1/ready``)."""
    return {"status": "ok", "version": __version__}


def plugins(call: ApiCall) -> dict[str, Any]:
    """The plugins the runtime knows: loaded, disabled or in error, with their failures."""
    rows = []
    for record in call.runtime.plugins.values():
        rows.append(
            {
                "name": record.name,
                "status": str(record.status),
                "version": record.version,
                "error": record.error,
                "failures": record.stats.failures,
            }
        )
    return {"plugins": rows, "mode": call.runtime.config.mode}


def outbox_list(call: ApiCall) -> dict[str, Any]:
    """Deliveries to national services (oldest first), and how many are in each state."""
    from segur_core.outbox.rows import delivery_row

    outbox = call.runtime.outbox
    items = outbox.list(
        call.query.get("state"), kind=call.query.get("kind"), limit=call.query.get("limit", 200)
    )
    return {
        "counts": {str(state): count for state, count in outbox.counts().items()},
        "deliveries": [delivery_row(d) for d in items],
    }


def outbox_get(call: ApiCall) -> dict[str, Any]:
    """One delivery (no payload, no patient identifier)."""
    from segur_core.outbox import UnknownDeliveryError
    from segur_core.outbox.rows import delivery_row

    try:
        return delivery_row(call.runtime.outbox.get(int(call.params["delivery_id"])))
    except UnknownDeliveryError:
        raise ApiError(404, "not_found", "no such delivery") from None


def outbox_retry(call: ApiCall) -> dict[str, Any]:
    """Give a dead delivery a new attempt budget (or make a pending one due now)."""
    from segur_core.outbox import OutboxError, UnknownDeliveryError
    from segur_core.outbox.rows import delivery_row

    try:
        return delivery_row(call.runtime.outbox.retry(int(call.params["delivery_id"])))
    except UnknownDeliveryError:
        raise ApiError(404, "not_found", "no such delivery") from None
    except OutboxError as exc:
        raise ApiError(409, "conflict", exc.message, hint=exc.hint) from None


def audit_list(call: ApiCall) -> dict[str, Any]:
    """The last journal records, patients as their pseudonyms."""
    journal = call.runtime.journal
    rows = []
    for record in journal.records(limit=call.query.get("limit", 100)):
        row = record.as_dict()
        row["patient_id"] = journal.pseudonym(record.patient_id)
        rows.append(row)
    return {"records": rows}


def audit_verify(call: ApiCall) -> dict[str, Any]:
    """Recompute the journal's hash chain and check it against its checkpoints."""
    return dict(call.runtime.journal.verify().as_dict())


_DELIVERY = {"type": "object"}


def core_routes() -> list[ApiRoute]:
    """The routes every service has, whatever the plugins."""
    from segur_core.serve.status import status_route

    limit = {"type": "integer", "minimum": 1, "maximum": 1000}
    return [
        status_route(),
        ApiRoute(
            "GET", "/health", health, "health", "The service is up.", tag="core", public=True,
            answer=object_schema(
                {"status": {"const": "ok"}, "version": {"type": "string"}}, ("status", "version")
            ),
        ),
        ApiRoute("GET", "/plugins", plugins, "plugins", "Plugins and their state.", tag="core"),
        ApiRoute(
            "GET", "/outbox", outbox_list, "outboxList", "Deliveries and counts per state.",
            tag="outbox",
            query={
                "state": {"type": "string", "enum": _STATES},
                "kind": {"type": "string", "minLength": 1, "maxLength": 100},
                "limit": limit,
            },
        ),
        ApiRoute(
            "GET", "/outbox/{delivery_id}", outbox_get, "outboxGet", "One delivery.",
            tag="outbox", params={"delivery_id": _ID}, answer=_DELIVERY,
            errors={404: "no such delivery"},
        ),
        ApiRoute(
            "POST", "/outbox/{delivery_id}/retry", outbox_retry, "outboxRetry",
            "Retry a dead delivery.", tag="outbox", params={"delivery_id": _ID},
            answer=_DELIVERY, errors={404: "no such delivery", 409: "not retriable"},
        ),
        ApiRoute(
            "GET", "/audit", audit_list, "auditList", "The last journal records.",
            tag="audit", query={"limit": limit},
        ),
        ApiRoute(
            "POST", "/audit/verify", audit_verify, "auditVerify",
            "Verify the journal's hash chain.", tag="audit",
        ),
    ]  # fmt: skip
