"""What a plugin declares to add to ``segur serve``'s API: routes and warm-ups.

A plugin answers the ``segur_api_routes`` hook with :class:`ApiRoute` values; the
service mounts them under ``/v1``, validates each request against the JSON Schemas the
route declares, and writes the same declarations into its OpenAPI document, which is
therefore never edited by hand. Handlers are plain functions taking an :class:`ApiCall`
and returning JSON-ready data (or :class:`Raw` bytes); they run in the thread serving
the connection, so they may block (an INSi call, a SQLite write). A typed error they
raise (:class:`~segur_core.errors.SegurError`) becomes the service's one error shape.

Nothing here imports the web stack: plugins declare routes without the serve extra.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from segur_core.errors import SegurError
from segur_core.model import hidden

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["METHODS", "ApiCall", "ApiError", "ApiRoute", "Raw", "Warmup", "object_schema"]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PATH = re.compile(r"^(/[a-z0-9][a-z0-9._-]*|/\{[a-z_][a-z0-9_]*\})+$")
_OPERATION = re.compile(r"^[a-z][A-Za-z0-9_.]*$")


class ApiError(SegurError):
    """A refusal of the API, with its HTTP status and a stable ``code``
    (``unauthenticated``, ``too_large``, ``not_found``...). ``details`` is JSON-ready data
    for the caller (never a patient identifier)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        hint: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.details = details


@attrs.frozen
class ApiCall:
    """One request, as a handler sees it.

    ``params``: the path parameters; ``query``: the query parameters, converted to the
    types the route declared; ``body``: the parsed JSON body (``bytes`` for a route with
    ``body_media_type`` other than JSON; ``None`` without body); ``caller``: who called
    (the certificate's subject, ``token``, ``uid:1000`` on a Unix socket), for the journal.
    """

    runtime: Runtime
    params: Mapping[str, str]
    query: Mapping[str, Any]
    body: Any
    caller: str


@attrs.frozen
class Raw:
    """An answer that is not JSON: a CDA document, a PDF, an HTML page."""

    content: bytes = attrs.field(repr=hidden)  # a patient's document
    media_type: str
    status: int = 200
    #: More headers of the answer (a page's Content-Security-Policy).
    headers: Mapping[str, str] = attrs.field(factory=dict)


def _check_path(_instance: Any, _attribute: Any, value: str) -> None:
    if not _PATH.match(value):
        raise ValueError(f"route path {value!r}: lower-case segments and {{params}}, from /")


@attrs.frozen
class ApiRoute:
    """One operation of the API.

    :param method: ``GET``, ``POST``, ``PUT``, ``PATCH`` or ``DELETE``.
    :param path: below ``/v1``, ``/ins/patients/{patient_id}/qualify``; a plugin's paths
        start with its name.
    :param handler: ``handler(call: ApiCall) -> JSON-ready data | Raw``.
    :param operation_id: unique in the API, ``insQualify``.
    :param summary: one line for the OpenAPI document.
    :param tag: the group in the OpenAPI document (the plugin's name).
    :param body: JSON Schema of the request body (``None``: no body).
    :param body_media_type: the body's media type; not JSON: the handler gets bytes.
    :param query: query parameter name -> JSON Schema (``string``, ``integer``, ``boolean``).
    :param params: path parameter name -> JSON Schema (default: a non-empty string).
    :param answer: JSON Schema of the successful answer (``None``: any JSON).
    :param answer_media_type: the answer's media type when the handler returns :class:`Raw`.
    :param status: the HTTP status of a success (200, 201, 202).
    :param errors: HTTP statuses this operation may answer besides the common ones, with
        what they mean (``{404: "no such patient"}``).
    :param patient: the path parameter or body field naming the patient concerned, written
        to the journal with the call (never to a log).
    :param public: no authentication (health and readiness probes, the OpenAPI document);
        public calls are not journaled.
    :param description: longer text for the OpenAPI document (default: the handler's
        docstring).
    """

    method: str = attrs.field(validator=attrs.validators.in_(METHODS))
    path: str = attrs.field(validator=_check_path)
    handler: Callable[[ApiCall], Any]
    operation_id: str = attrs.field(validator=attrs.validators.matches_re(_OPERATION))
    summary: str
    tag: str = ""
    body: Mapping[str, Any] | None = None
    body_media_type: str = "application/json"
    query: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    params: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    answer: Mapping[str, Any] | None = None
    answer_media_type: str = "application/json"
    status: int = 200
    errors: Mapping[int, str] = attrs.field(factory=dict)
    patient: str | None = None
    public: bool = False
    description: str | None = None

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{([a-z_][a-z0-9_]*)\}", self.path))

    def param_schema(self, name: str) -> Mapping[str, Any]:
        return self.params.get(name, {"type": "string", "minLength": 1, "maxLength": 200})


@attrs.frozen
class Warmup:
    """Something the service prepares before it reports ready (compiled schematrons).

    ``start()`` blocks until the thing is warm and raises if it cannot be; the service
    calls it once, in a background thread, when it starts, and answers ``/v1/ready``
    with 503 until every warm-up returned.
    """

    name: str
    start: Callable[[], object]


def object_schema(
    properties: Mapping[str, Mapping[str, Any]],
    required: tuple[str, ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    """A JSON Schema object with these properties, no others."""
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }
