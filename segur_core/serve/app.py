"""The application of ``segur serve``: the core's routes and the plugins', one door.

:func:`create_app` mounts every :class:`~segur_core.serve.routes.ApiRoute` (the core's,
then those of ``segur_api_routes``) under ``/v1``, serves their OpenAPI document at
``/v1/openapi.json``, and for each call, in this order: authenticates the caller (bearer
token, client certificate, or the Unix socket's peer), refuses a body above the size
limit, parses and validates it against the route's schemas, runs the handler,
journals the call with its caller (``api.call``; the patient goes to the journal only,
never to a log), and answers JSON or the one error shape
(:mod:`segur_core.serve.errors`).

A call is a plain function call (:meth:`ServiceApp.answer`), made by the thread that
serves the connection (:mod:`segur_core.serve.http11`, run by
:mod:`segur_core.serve.server`); this module imports without the ``serve`` extra.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import attrs

from segur_core.errors import PluginError
from segur_core.host.openapi import add_host_api
from segur_core.journal.deferral import deferring
from segur_core.serve.checks import Schema
from segur_core.serve.errors import error_answer
from segur_core.serve.openapi import API_PREFIX, build_openapi
from segur_core.serve.routes import ApiCall, ApiError, ApiRoute, Raw, Warmup
from segur_core.serve.routing import RouteTable
from segur_core.serve.settings import ServeSettings

if TYPE_CHECKING:
    from segur_core.runtime import Runtime
    from segur_core.serve.http11 import Answer, Request

__all__ = ["Service", "ServiceApp", "collect_routes", "create_app"]

log = logging.getLogger("segur.serve")

_ACTOR = re.compile(r"^[A-Za-z0-9._@:/-]{1,64}$")
#: Header where an LGO names the workstation or user behind a call (journaled as given).
ACTOR_HEADER = "x-segur-actor"


@attrs.define
class Service:
    """What the application knows about itself: its routes, its OpenAPI document, the
    state of its warm-ups, whether it is draining."""

    runtime: Runtime
    settings: ServeSettings
    routes: list[ApiRoute]
    warmups: list[Warmup]
    openapi: dict[str, Any]
    warm_state: dict[str, str] = attrs.field(factory=dict)
    started_at: float = attrs.field(factory=time.monotonic)
    ready_after: float | None = None
    draining: bool = False
    in_flight: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    @property
    def ready(self) -> bool:
        return not self.draining and all(s == "ready" for s in self.warm_state.values())

    def start_warmups(self) -> None:
        """Start every warm-up in its own background thread."""
        for warmup in self.warmups:
            self.warm_state[warmup.name] = "warming"
            threading.Thread(
                target=self._warm, args=(warmup,), name=f"segur-warm-{warmup.name}", daemon=True
            ).start()
        self._maybe_ready()

    def _warm(self, warmup: Warmup) -> None:
        try:
            warmup.start()
        except Exception as exc:
            log.error("warm-up %s failed: %s", warmup.name, type(exc).__name__)
            self.warm_state[warmup.name] = f"failed: {exc}"
        else:
            self.warm_state[warmup.name] = "ready"
        self._maybe_ready()

    def _maybe_ready(self) -> None:
        with self._lock:
            if self.ready_after is None and self.ready:
                self.ready_after = time.monotonic() - self.started_at
                log.info("ready after %.2f s", self.ready_after)


def collect_routes(runtime: Runtime, extra: Iterable[ApiRoute] = ()) -> list[ApiRoute]:
    """The core's routes, the enabled plugins' (``segur_api_routes``) and ``extra``; two
    routes on the same method and path, or with the same operation id, are a
    :class:`PluginError` naming the plugin."""
    from segur_core.serve.core_routes import core_routes

    routes: list[tuple[str, ApiRoute]] = [("core", r) for r in core_routes()]
    for plugin, contributed in runtime.per_plugin("segur_api_routes"):
        for route in contributed:
            if not isinstance(route, ApiRoute):
                raise PluginError(
                    "segur_api_routes returned something not an ApiRoute", plugin=plugin
                )
            routes.append((plugin, route if route.tag else attrs.evolve(route, tag=plugin)))
    routes += [("extra", r) for r in extra]
    seen: dict[tuple[str, str], str] = {}
    operations: dict[str, str] = {}
    for plugin, route in routes:
        where = (route.method, route.path)
        if where in seen:
            raise PluginError(
                f"{route.method} {API_PREFIX}{route.path} is also declared by {seen[where]!r}",
                plugin=plugin,
            )
        if route.operation_id in operations:
            raise PluginError(
                f"operation id {route.operation_id!r} is also used by "
                f"{operations[route.operation_id]!r}",
                plugin=plugin,
            )
        seen[where] = operations[route.operation_id] = plugin
    return [route for _plugin, route in routes]


def collect_warmups(runtime: Runtime) -> list[Warmup]:
    """The warm-ups of the enabled plugins (``segur_api_warmups``)."""
    return [w for _plugin, found in runtime.per_plugin("segur_api_warmups") for w in found]


def create_app(
    runtime: Runtime,
    settings: ServeSettings | None = None,
    *,
    routes: Sequence[ApiRoute] = (),
    webhooks: Sequence[ApiRoute] = (),
) -> ServiceApp:
    """The ASGI application serving ``runtime`` (``app.state.service`` is its
    :class:`Service`). ``routes`` are added to the core's and the plugins'; ``webhooks``
    are described in the OpenAPI document (what the service calls on the LGO)."""
    settings = settings if settings is not None else ServeSettings(insecure_loopback=True)
    holder: list[Service] = []

    def ready(call: ApiCall) -> Any:
        """Whether every warm-up is done (200) or not yet (503), and each one's state."""
        current = holder[0]
        body = {
            "ready": current.ready,
            "warmups": dict(current.warm_state),
            "seconds_to_ready": current.ready_after,
        }
        return body if current.ready else Raw(_dumps(body), "application/json", 503)

    def openapi(call: ApiCall) -> Any:
        """This document."""
        return holder[0].openapi

    own = [
        ApiRoute(
            "GET", "/ready", ready, "ready", "Ready to serve: every warm-up done.",
            tag="core", public=True, errors={503: "still warming up (the body says which)"},
            answer=_READY,
        ),
        ApiRoute(
            "GET", "/openapi.json", openapi, "openapi", "The OpenAPI document of this API.",
            tag="core", public=True, answer={"type": "object"},
        ),
    ]  # fmt: skip
    mounted = collect_routes(runtime, [*own, *routes])
    warmups = collect_warmups(runtime) if settings.warm else []
    security = [
        name for name, on in (("bearer", settings.token), ("mutualTLS", settings.tls)) if on
    ]
    service = Service(
        runtime=runtime,
        settings=settings,
        routes=mounted,
        warmups=warmups,
        openapi=add_host_api(
            build_openapi(mounted, webhooks=webhooks, security=security or ("bearer",))
        ),
        warm_state={w.name: "pending" for w in warmups},
    )
    holder.append(service)
    return ServiceApp(service)


class ServiceApp:
    """The application: :meth:`answer` matches a request to its operation, authenticates
    the caller, checks the request, runs the handler, journals the call and encodes the
    answer, all in the calling thread (the one serving the connection).

    Not a framework's application: the service owns its errors, authentication and
    journal, and a framework's layers cost more per call than the service's own work
    (docs/performance.md)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.state = types.SimpleNamespace(service=service)
        self._settings = service.settings
        self._table: RouteTable[_Operation] = RouteTable(
            ((r.method, API_PREFIX + r.path, _Operation.of(r)) for r in service.routes),
            hint=f"see {API_PREFIX}/openapi.json",
        )

    def start(self) -> None:
        """Start the warm-ups and, when configured, the outbox worker."""
        service = self.service
        service.started_at = time.monotonic()
        service.start_warmups()
        if service.settings.outbox_worker and service.runtime.has_outbox:
            service.runtime.outbox.start_worker()

    def stop(self) -> None:
        """Refuse calls from now on (503 ``shutting_down``)."""
        self.service.draining = True

    def answer(self, request: Request) -> Answer:
        """The answer to one request: status, body, media type, more headers."""
        service = self.service
        operation: _Operation | None = None
        caller = None
        try:
            operation, params = self._table.match(request.method, request.path)
            if service.draining:
                raise ApiError(503, "shutting_down", "the service is stopping")
            if not operation.route.public:
                caller = _authenticate(request, self._settings)
            call = _read_call(
                request, operation, params, self._settings, service.runtime, caller or "public"
            )
        except Exception as exc:
            if operation is not None and caller is None and _unauthenticated(exc):
                _journal_refusal(service.runtime, operation.route, _peer(request))
            status, body = error_answer(exc)
            challenge = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return status, _dumps(body), _JSON, challenge
        return _run(service, operation, call)

    def refuse(self, status: int, message: str) -> Answer:
        """The answer to bytes that are not a request this service takes (400, 431), or
        to a failure of the server itself (500), in the one error shape."""
        code = {400: "malformed", 431: "too_large"}.get(status, "internal")
        _status, body = error_answer(ApiError(status, code, message))
        return status, _dumps(body), _JSON, None


@attrs.frozen
class _Operation:
    """A mounted route with its schemas compiled."""

    route: ApiRoute
    body: Schema | None
    params: dict[str, Schema]
    query: dict[str, Schema]

    @classmethod
    def of(cls, route: ApiRoute) -> _Operation:
        return cls(
            route=route,
            body=Schema(route.body) if route.body is not None else None,
            params={name: Schema(route.param_schema(name)) for name in route.path_params},
            query={name: Schema(schema) for name, schema in route.query.items()},
        )


def _unauthenticated(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.status == 401


_READY = {
    "type": "object",
    "required": ["ready", "warmups"],
    "properties": {
        "ready": {"type": "boolean"},
        "warmups": {"type": "object", "additionalProperties": {"type": "string"}},
        "seconds_to_ready": {"type": ["number", "null"]},
    },
}


_JSON = "application/json"


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- one call --------------------------------------------------------------------------------


def _run(
    service: Service, operation: _Operation, call: ApiCall
) -> tuple[int, bytes, str, Mapping[str, str] | None]:
    """Run the handler, journal the call, encode the answer.

    The call is a :func:`~segur_core.journal.deferral.deferring` scope: the records its
    handler lets wait (``record_later``) are written with ``api.call``, in one commit,
    before the answer; a handler that fails has them written with its error."""
    route = operation.route
    with service._lock:
        service.in_flight += 1
    status: int
    try:
        with deferring():
            try:
                result = route.handler(call)
                status = result.status if isinstance(result, Raw) else route.status
            except Exception as exc:
                status, result = error_answer(exc)
            finally:
                with service._lock:
                    service.in_flight -= 1
            if not route.public:
                _journal_call(service.runtime, route, call, status)
    except Exception as exc:  # the call is done; a journal that cannot write is an error
        status, result = error_answer(exc)
    if isinstance(result, Raw):
        return result.status, result.content, result.media_type, result.headers
    try:
        return status, _dumps(result), _JSON, None
    except (TypeError, ValueError) as exc:  # a handler answering what JSON cannot hold
        status, body = error_answer(exc)
        return status, _dumps(body), _JSON, None


def _journal_call(runtime: Runtime, route: ApiRoute, call: ApiCall, status: int) -> None:
    patient = None
    if route.patient is not None:
        patient = call.params.get(route.patient)
        if patient is None and isinstance(call.body, dict):
            value = call.body.get(route.patient)
            patient = value if isinstance(value, str) else None
    runtime.journal.record(
        "api.call",
        outcome="ok" if status < 400 else "error",
        service="api",
        patient_id=patient,
        actor=call.caller,
        details={"operation": route.operation_id, "status": status},
    )


def _journal_refusal(runtime: Runtime, route: ApiRoute, peer: str) -> None:
    try:
        runtime.journal.record(
            "api.refused",
            outcome="unauthenticated",
            service="api",
            actor=peer,
            details={"operation": route.operation_id},
        )
    except Exception as exc:
        log.error("cannot journal a refused call: %s", type(exc).__name__)


# -- authentication --------------------------------------------------------------------------


def _authenticate(request: Request, settings: ServeSettings) -> str:
    """Who calls: the certificate's subject, ``token``, or the Unix socket's peer user;
    :class:`ApiError` 401 otherwise. A configured token is always required."""
    caller = None
    if settings.tls is not None:
        name = request.peer.cert_name
        if not name:
            raise ApiError(401, "unauthenticated", "a client certificate is required")
        caller = f"cert:{name}"
    if settings.token is not None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        expected = settings.token.reveal().encode("utf-8")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "surrogateescape"), expected
        ):
            raise ApiError(
                401,
                "unauthenticated",
                "a valid bearer token is required",
                hint="send 'Authorization: Bearer <token>' ([segur.serve] token)",
            )
        caller = caller or "token"
    if caller is None:
        if settings.socket is not None:
            uid = request.peer.uid
            caller = "socket" if uid is None else f"uid:{uid}"
        elif settings.insecure_loopback:
            caller = "loopback"
        else:
            raise ApiError(401, "unauthenticated", "no authentication is configured")
    actor = request.headers.get(ACTOR_HEADER)
    if actor:
        if not _ACTOR.match(actor):
            raise ApiError(400, "malformed", f"{ACTOR_HEADER}: 1-64 letters, digits or ._@:/-")
        caller = f"{caller} ({actor})"
    return caller


def _peer(request: Request) -> str:
    return request.peer.host or "socket"


# -- reading a request -----------------------------------------------------------------------


def _read_call(
    request: Request,
    operation: _Operation,
    params: dict[str, str],
    settings: ServeSettings,
    runtime: Runtime,
    caller: str,
) -> ApiCall:
    route = operation.route
    for name, schema in operation.params.items():
        schema.check(params.get(name), f"path.{name}")
    query = _query(request, operation)
    body: Any = None
    declared = request.headers.get("content-length")
    if route.body is not None or declared not in (None, "0"):
        if request.too_large:
            raise ApiError(
                413, "too_large", f"the body is larger than {settings.max_body_bytes} bytes",
                hint="[segur.serve] max_body_bytes",
            )  # fmt: skip
        raw = request.body
        if route.body is None:
            if raw:
                raise ApiError(400, "malformed", "this operation takes no body")
        elif route.body_media_type == "application/json":
            if not raw:
                raise ApiError(400, "malformed", "a JSON body is required")
            try:
                body = json.loads(raw)
            except (UnicodeDecodeError, ValueError) as exc:
                raise ApiError(
                    400, "malformed", f"the body is not JSON ({type(exc).__name__})"
                ) from None
            assert operation.body is not None
            operation.body.check(body, "body")
        else:
            if not raw:
                raise ApiError(400, "malformed", f"a {route.body_media_type} body is required")
            body = raw
    return ApiCall(runtime=runtime, params=params, query=query, body=body, caller=caller)


def _query(request: Request, operation: _Operation) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if not request.query:
        return values
    for name, text in parse_qsl(request.query, keep_blank_values=True):
        schema = operation.route.query.get(name)
        if schema is None:
            raise ApiError(
                400, "malformed", f"unknown query parameter {name[:40]!r}",
                details={"known": sorted(operation.route.query)},
            )  # fmt: skip
        if name in values:
            raise ApiError(400, "malformed", f"query parameter {name!r} given twice")
        kind = schema.get("type", "string")
        try:
            if kind == "integer":
                values[name] = int(text)
            elif kind == "boolean":
                if text not in ("true", "false"):
                    raise ValueError
                values[name] = text == "true"
            else:
                values[name] = text
        except ValueError:
            raise ApiError(400, "malformed", f"query parameter {name!r}: expected {kind}") from None
        operation.query[name].check(values[name], f"query.{name}")
    return values
