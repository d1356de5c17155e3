"""The OpenAPI 3.1 description of the host API (the LGO's side, called by segur).

:func:`openapi_document` is the host API on its own, its routes as ``paths`` relative to
the LGO's base URL: for an LGO editor's tools (server stubs, a test client).
:func:`add_host_api` describes the same operations in another document (``segur
serve``'s) as ``webhooks``, OpenAPI's section for the calls an API makes on its
consumer, under the tag :data:`TAG`, each with its path (``x-segur-path``): a client
generated from segur's document never mistakes them for segur's own endpoints. Both are
built from :data:`~segur_core.host.api.ROUTES` and the model's JSON Schemas
(:func:`segur_core.schemas.json_schema`).
"""

from __future__ import annotations

import copy
from typing import Any

from segur_core import model
from segur_core.host.api import (
    API_VERSION,
    BAD_CURSOR,
    NOT_FOUND,
    ROUTES,
    PatientQuery,
    Route,
)
from segur_core.host.paging import MAX_PAGE_SIZE, PatientPage
from segur_core.schemas import REF_PREFIX, json_schema

__all__ = ["TAG", "add_host_api", "openapi_document"]

#: The tag of the host API's operations.
TAG = "LGO host API"

_TAG_DESCRIPTION = (
    "Implemented by the LGO, called by segur (hostspecs.http.HttpHost): the host"
    " contract over HTTP. Paths are relative to the LGO's base URL ([host] url in"
    " segur.toml). Every call carries `Authorization: Bearer` when a token is configured;"
    " POSTs carry an `Idempotency-Key` the LGO uses to answer a repeated call as the first"
    " time."
)

_SERVERS = [
    {
        "url": "{lgo}",
        "description": "the LGO's host API, [host] url",
        "variables": {"lgo": {"default": "http://127.0.0.1:8700/segur-host/v1"}},
    }
]

_PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem; `type` is " + NOT_FOUND + " for a record that does"
    " not exist (any other 404 is an error).",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
    },
}


#: What each query parameter of :data:`ROUTES` is.
_QUERY: dict[str, tuple[str, dict[str, Any]]] = {
    "since": (
        "only the records at or after this instant",
        {"type": "string", "format": "date-time"},
    ),
    "cursor": (
        "the `next_cursor` of the page before (absent: the first page); opaque, a cursor"
        f" the LGO did not give is a 400 problem of type {BAD_CURSOR}",
        {"type": "string"},
    ),
    "limit": (
        "the most patients to return (the LGO may return fewer)",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    ),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF_PREFIX + name}


def _answer_schema(where: Route) -> dict[str, Any]:
    if where.answer.startswith("["):
        item = where.answer.strip("[]")
        return {
            "type": "object",
            "required": [where.answer_key],
            "properties": {where.answer_key: {"type": "array", "items": _ref(item)}},
        }
    return _ref(where.answer)


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


def _operation(where: Route) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": "percent-encoded, one path segment",
            "schema": {"type": "string"},
        }
        for name in _path_names(where.path)
    ]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": _QUERY[name][0],
            "schema": dict(_QUERY[name][1]),
        }
        for name in where.query
    ]
    responses: dict[str, Any] = {
        str(where.found): {
            "description": where.summary,
            "content": {"application/json": {"schema": _answer_schema(where)}},
        },
        "400": _problem_response("the request is malformed"),
        "401": _problem_response("no valid bearer token"),
    }
    if where.may_be_absent:
        responses["404"] = _problem_response(f"no such record (problem type {NOT_FOUND})")
    operation: dict[str, Any] = {
        "tags": [TAG],
        "operationId": f"{where.hook}_{where.method.lower()}",
        "summary": where.summary,
        "description": f"The hook `{where.hook}` of the host contract.",
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if where.request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(where.request)}},
        }
    if where.method == "POST":
        operation.setdefault("parameters", []).append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "the same key for the same call made again",
                "schema": {"type": "string"},
            }
        )
    return operation


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for cls in (
        model.Structure,
        model.Practitioner,
        model.Patient,
        PatientQuery,
        PatientPage,
        model.HealthDocument,
        model.ReceivedMessage,
        model.Dispensation,
        model.Consent,
        model.Question,
        model.Answer,
    ):
        json_schema(cls, schemas)
    schemas["Problem"] = copy.deepcopy(_PROBLEM)
    return dict(sorted(schemas.items()))


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for where in ROUTES:
        item = paths.setdefault(where.path, {})
        item[where.method.lower()] = _operation(where)
    return paths


def openapi_document() -> dict[str, Any]:
    """The host API on its own: an OpenAPI 3.1 document (a plain dict, JSON-ready)
    whose ``paths`` are relative to the LGO's base URL."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "segur host API (implemented by the LGO)",
            "version": API_VERSION,
            "description": _TAG_DESCRIPTION,
        },
        "servers": copy.deepcopy(_SERVERS),
        "paths": _paths(),
    }
    _add_components(document)
    return document


def add_host_api(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the host API added as ``webhooks`` (one per hook, its methods
    inside), its schemas and its tag (in place, and returned). A webhook already there,
    or a schema there under the same name but different, is an error."""
    hooks = document.setdefault("webhooks", {})
    for where in ROUTES:
        item = hooks.setdefault(where.hook, {})
        if where.method.lower() in item:
            raise ValueError(f"the webhook {where.hook} {where.method} is already in the document")
        operation = _operation(where)
        operation["x-segur-path"] = where.path
        operation["description"] += (
            f" The LGO serves it at `{where.method} {{base URL}}{where.path}`"
            " ([host] url in segur.toml)."
        )
        item[where.method.lower()] = operation
    _add_components(document)
    return document


def _add_components(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in _components().items():
        if name in schemas and schemas[name] != schema:
            raise ValueError(f"the schema {name} is already in the document, different")
        schemas[name] = schema
    document.setdefault("tags", []).append({"name": TAG, "description": _TAG_DESCRIPTION})


def main() -> None:
    """``python -m segur_core.host.openapi``: the document on standard output (JSON)."""
    import json
    import sys

    json.dump(openapi_document(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
