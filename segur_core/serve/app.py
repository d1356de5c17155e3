"""The ASGI application of ``segur serve``: the core's routes and the plugins', one door.

:func:`create_app` mounts every :class:`~segur_core.serve.routes.ApiRoute` (the core's,
then those of ``segur_api_routes``) under ``/v1``, serves their OpenAPI document at
``/v1/openapi.json``, and for each call, in this order: authenticates the caller (bearer
token, client certificate, or the Unix socket's peer), refuses a body above the size
limit while reading it, parses and validates it against the route's schemas, runs the
handler in a worker thread, journals the call with its caller (``api.call``; the
patient goes to the journal only, never to a log), and answers JSON or the one error
shape (:mod:`segur_core.serve.errors`).

starlette is imported when the app is made: the module itself imports without the
``serve`` extra.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from segur_core.errors import PluginError
from segur_core.host.openapi import add_host_api
from segur_core.serve.errors import error_answer
from segur_core.serve.openapi import API_PREFIX, build_openapi
from segur_core.serve.routes import ApiCall, ApiError, ApiRoute, Raw, Warmup
from segur_core.serve.settings import ServeSettings

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["Service", "collect_routes", "create_app"]

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
) -> Any:
    """The ASGI application serving ``runtime`` (``app.state.service`` is its
    :class:`Service`). ``routes`` are added to the core's and the plugins'; ``webhooks``
    are described in the OpenAPI document (what the service calls on the LGO)."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

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

    def answer(status: int, data: Any) -> Response:
        return Response(_dumps(data), status_code=status, media_type="application/json")

    def refusal(exc: BaseException) -> Response:
        status, body = error_answer(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        response = answer(status, body)
        if headers:
            response.headers.update(headers)
        return response

    def endpoint(route: ApiRoute) -> Any:
        async def handle(request: Request) -> Response:
            caller = None
            try:
                if service.draining:
                    raise ApiError(503, "shutting_down", "the service is stopping")
                if not route.public:
                    caller = _authenticate(request, settings)
                call = await _read_call(request, route, settings, runtime, caller or "public")
            except Exception as exc:
                if caller is None and isinstance(exc, ApiError) and exc.status == 401:
                    await run_in_threadpool(_journal_refusal, runtime, route, _peer(request))
                return refusal(exc)
            status, result = await run_in_threadpool(_run, service, route, call)
            if isinstance(result, Raw):
                return Response(
                    result.content,
                    status_code=result.status,
                    media_type=result.media_type,
                    headers=dict(result.headers),
                )
            return answer(status, result)

        handle.__name__ = route.operation_id
        return handle

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return refusal(
                ApiError(405, "method_not_allowed", f"{request.method} is not allowed here")
            )
        return refusal(
            ApiError(404, "not_found", "no such operation", hint=f"see {API_PREFIX}/openapi.json")
        )

    @asynccontextmanager
    async def lifespan(app: Any):
        service.started_at = time.monotonic()
        service.start_warmups()
        if settings.outbox_worker and runtime.has_outbox:
            runtime.outbox.start_worker()
        try:
            yield
        finally:
            service.draining = True

    app = Starlette(
        routes=[
            Route(API_PREFIX + r.path, endpoint(r), methods=[r.method], name=r.operation_id)
            for r in mounted
        ],
        exception_handlers={404: not_found, 405: not_found},
        lifespan=lifespan,
    )
    app.state.service = service
    return app


_READY = {
    "type": "object",
    "required": ["ready", "warmups"],
    "properties": {
        "ready": {"type": "boolean"},
        "warmups": {"type": "object", "additionalProperties": {"type": "string"}},
        "seconds_to_ready": {"type": ["number", "null"]},
    },
}


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- one call --------------------------------------------------------------------------------


def _run(service: Service, route: ApiRoute, call: ApiCall) -> tuple[int, Any]:
    """Run the handler (in a worker thread), journal the call, shape the answer."""
    with service._lock:
        service.in_flight += 1
    status: int
    try:
        result = route.handler(call)
        status = result.status if isinstance(result, Raw) else route.status
    except Exception as exc:
        status, result = error_answer(exc)
    finally:
        with service._lock:
            service.in_flight -= 1
    if not route.public:
        try:
            _journal_call(service.runtime, route, call, status)
        except Exception as exc:  # the call is done; a journal that cannot write is an error
            return error_answer(exc)
    return status, result


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


def _authenticate(request: Any, settings: ServeSettings) -> str:
    """Who calls: the certificate's subject, ``token``, or the Unix socket's peer user;
    :class:`ApiError` 401 otherwise. A configured token is always required."""
    caller = None
    tls = request.scope.get("extensions", {}).get("tls")
    if settings.tls is not None:
        name = tls.get("client_cert_name") if tls else None
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
            caller = _socket_peer(request) or "socket"
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


def _socket_peer(request: Any) -> str | None:
    transport = request.scope.get("extensions", {}).get("segur.transport")
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    _pid, uid, _gid = struct.unpack("3i", creds)
    return f"uid:{uid}"


def _peer(request: Any) -> str:
    client = request.scope.get("client")
    return f"{client[0]}" if client else "socket"


# -- reading a request -----------------------------------------------------------------------


async def _read_call(
    request: Any, route: ApiRoute, settings: ServeSettings, runtime: Runtime, caller: str
) -> ApiCall:
    params = dict(request.path_params)
    for name in route.path_params:
        _validate(params.get(name), route.param_schema(name), f"path.{name}")
    query = _query(request, route)
    body: Any = None
    if route.body is not None or request.headers.get("content-length") not in (None, "0"):
        raw = await _body(request, settings.max_body_bytes)
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
            _validate(body, route.body, "body")
        else:
            if not raw:
                raise ApiError(400, "malformed", f"a {route.body_media_type} body is required")
            body = raw
    return ApiCall(runtime=runtime, params=params, query=query, body=body, caller=caller)


async def _body(request: Any, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_large = ApiError(
        413,
        "too_large",
        f"the body is larger than {limit} bytes",
        hint="[segur.serve] max_body_bytes",
    )
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "malformed", "Content-Length is not a number")
        if int(declared) > limit:
            raise too_large
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _query(request: Any, route: ApiRoute) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, text in request.query_params.multi_items():
        schema = route.query.get(name)
        if schema is None:
            raise ApiError(
                400, "malformed", f"unknown query parameter {name[:40]!r}",
                details={"known": sorted(route.query)},
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
        _validate(values[name], schema, f"query.{name}")
    return values


_VALIDATORS: dict[str, Any] = {}


def _validate(value: Any, schema: Any, where: str) -> None:
    """Check ``value`` against a JSON Schema; :class:`ApiError` 422 saying where and what
    rule failed (never echoing the value: it may be a patient's name)."""
    from jsonschema import Draft202012Validator

    key = json.dumps(schema, sort_keys=True)
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator = _VALIDATORS[key] = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    problems = [
        {"at": _pointer(where, error.absolute_path), "rule": _rule(error)} for error in errors[:20]
    ]
    first = problems[0]
    raise ApiError(
        422,
        "invalid_request",
        f"{first['at']}: {first['rule']}",
        details={"problems": problems},
    )


def _pointer(where: str, path: Iterable[Any]) -> str:
    return ".".join([where, *(str(p) for p in path)])


def _rule(error: Any) -> str:
    kind, expected = error.validator, error.validator_value
    if kind in ("required", "additionalProperties", "propertyNames"):
        return str(error.message)  # names the keys, not the values
    if kind == "type":
        return f"expected type {expected}"
    if kind == "enum":
        return f"expected one of {expected}"
    if kind == "const":
        return f"expected {expected!r}"
    return f"fails {kind} {expected!r}"
