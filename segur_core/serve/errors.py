"""The one error shape of the API, and the HTTP status of each typed error.

Every refusal is ``{"error": {"code", "message", "hint", "type", "details"}}``: ``code``
is stable (a client branches on it), ``message`` and ``hint`` are for a person,
``type`` names the segur error class, ``details`` holds structured data (validation
issues, the failing key). An error that is not a :class:`SegurError` is a bug: its
message is not shown (it could hold anything), only ``internal``.
"""

from __future__ import annotations

import logging
from typing import Any

from segur_core.errors import (
    ConfigError,
    DocumentError,
    DurabilityError,
    IdentityError,
    InputError,
    PluginError,
    RemoteServiceError,
    RuntimeClosedError,
    SecurityError,
    SegurError,
)
from segur_core.serve.routes import ApiError

__all__ = ["ERROR_SCHEMA", "error_answer"]

log = logging.getLogger("segur.serve")

#: JSON Schema of every error answer (``components/schemas/Error`` in the OpenAPI document).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "type"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "hint": {"type": ["string", "null"]},
                "type": {"type": "string"},
                "details": {},
            },
        }
    },
}

# Most specific first.
_STATUSES: tuple[tuple[type[SegurError], int, str], ...] = (
    (DocumentError, 422, "invalid_document"),
    (IdentityError, 422, "invalid_identity"),
    (InputError, 422, "invalid_input"),
    (SecurityError, 403, "forbidden"),
    (RemoteServiceError, 502, "remote_service"),
    (DurabilityError, 507, "not_durable"),
    (RuntimeClosedError, 503, "shutting_down"),
    (ConfigError, 500, "misconfigured"),
    (PluginError, 500, "plugin_error"),
)


def error_answer(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body answering ``exc``."""
    details: Any = None
    if isinstance(exc, ApiError):
        status, code, details = exc.status, exc.code, exc.details
    elif isinstance(exc, SegurError):
        status, code = 400, "refused"
        for cls, cls_status, cls_code in _STATUSES:
            if isinstance(exc, cls):
                status, code = cls_status, cls_code
                break
        if isinstance(exc, RemoteServiceError):
            if exc.transient:
                status = 503
            details = {"service": exc.service, "code": exc.code, "transient": exc.transient}
        elif isinstance(exc, DocumentError):
            details = {"issues": [issue.as_dict() for issue in exc.issues]}
        elif isinstance(exc, ConfigError):
            details = {"key": exc.key}
        elif isinstance(exc, SecurityError):
            reason = getattr(exc, "status", None)  # why an access was refused (NO_INS...)
            details = {"reason": reason} if isinstance(reason, str) else None
    else:
        log.error("unexpected %s in an API call", type(exc).__name__, exc_info=exc)
        return 500, _body(
            "internal", "unexpected error in the service", "see the service's log", "Error", None
        )
    message = exc.message if isinstance(exc, SegurError) else str(exc)
    return status, _body(code, message, exc.hint, type(exc).__name__, details)


def _body(code: str, message: str, hint: str | None, kind: str, details: Any) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "hint": hint, "type": kind, "details": details}
    }
