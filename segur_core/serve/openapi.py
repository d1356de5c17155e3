"""The OpenAPI 3.1 document of the API, generated from the route declarations.

Nothing in it is written by hand: each :class:`~segur_core.serve.routes.ApiRoute` gives
its path, parameters, body and answer schemas, and the common answers (401, 413, 422...)
come from the one error shape. A test checks the document against the routes mounted.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from segur_core._version import __version__
from segur_core.serve.errors import ERROR_SCHEMA
from segur_core.serve.routes import ApiRoute

__all__ = ["API_PREFIX", "build_openapi"]

#: Every route lives below this prefix; a new major version gets a new one.
API_PREFIX = "/v1"

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_COMMON_ERRORS = {
    "400": "malformed request (not JSON, wrong parameter type)",
    "401": "no valid bearer token or client certificate",
    "413": "request body larger than the service accepts",
    "422": "the request or its content is invalid (the details say where)",
    "500": "unexpected error in the service",
    "503": "not ready yet, shutting down, or a national service is unavailable",
}


def build_openapi(
    routes: Iterable[ApiRoute],
    *,
    webhooks: Iterable[ApiRoute] = (),
    title: str = "segur",
    security: Iterable[str] = ("bearer", "mutualTLS"),
) -> dict[str, Any]:
    """The OpenAPI document describing ``routes`` (and, as ``webhooks``, the operations
    the service calls on the LGO)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(API_PREFIX + route.path, {})[route.method.lower()] = _operation(
            route, security
        )
    hooks: dict[str, dict[str, Any]] = {}
    for route in webhooks:
        hooks.setdefault(route.operation_id, {})[route.method.lower()] = _operation(route, ())
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": __version__,
            "description": "Ségur du numérique capabilities for pharmacy software, "
            "as a local HTTP/JSON service (segur serve).",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "mutualTLS": {"type": "mutualTLS"},
            },
        },
    }
    if hooks:
        document["webhooks"] = hooks
    return document


def _operation(route: ApiRoute, security: Iterable[str]) -> dict[str, Any]:
    description = route.description or inspect.getdoc(route.handler) or route.summary
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "description": description,
        "tags": [route.tag or "core"],
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": dict(route.param_schema(name))}
        for name in route.path_params
    ]
    parameters += [
        {"name": name, "in": "query", "required": False, "schema": dict(schema)}
        for name, schema in route.query.items()
    ]
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {route.body_media_type: {"schema": dict(route.body)}},
        }
    answer: dict[str, Any] = {"description": route.summary}
    if route.answer_media_type == "application/json":
        answer["content"] = {"application/json": {"schema": dict(route.answer or {})}}
    else:
        answer["content"] = {route.answer_media_type: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(route.status): answer}
    errors: Mapping[str, str] = {
        **{k: v for k, v in _COMMON_ERRORS.items() if not route.public or k in ("500", "503")},
        **{str(k): v for k, v in route.errors.items()},
    }
    for status, text in sorted(errors.items()):
        responses[status] = {
            "description": text,
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
    operation["responses"] = responses
    operation["security"] = [] if route.public else [{name: []} for name in security]
    return operation
