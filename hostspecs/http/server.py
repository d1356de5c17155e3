"""The reference LGO side of the host API: a starlette app over any host object.

An LGO editor reads it as the worked example of :data:`~segur_core.host.api.ROUTES`
(status codes, the not-found problem, ``Idempotency-Key``, the bearer token); the tests
serve it over the SQLite reference host, so that the conformance kit checks the adapter
and this side together. :func:`reference_lgo` starts it on loopback.

Needs ``starlette`` and ``uvicorn`` (segur-core's ``sandbox`` extra).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from segur_core import convert
from segur_core.host.api import BAD_CURSOR, NOT_FOUND, ROUTES, PatientQuery, Route
from segur_core.host.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, CursorError
from segur_core.model import (
    Answer,
    Consent,
    Dispensation,
    HealthDocument,
    Patient,
    Practitioner,
    Question,
    ReceivedMessage,
    Structure,
)

__all__ = ["MAX_REQUEST_BYTES", "ReferenceLgo", "lgo_app"]

#: The largest request body the reference side reads (a CDA with its PDF, base64).
MAX_REQUEST_BYTES = 32 * 1024 * 1024

_MODELS: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Answer,
        Consent,
        Dispensation,
        HealthDocument,
        Patient,
        PatientQuery,
        Practitioner,
        Question,
        ReceivedMessage,
        Structure,
    )
}


class _BadRequest(Exception):
    """A request the contract does not allow (400), with a message without its data."""


class _Idempotency:
    """The answers already given to an ``Idempotency-Key`` (the last 10,000, in memory:
    a worked example; a real LGO keeps them with the record, in the same transaction)."""

    def __init__(self, size: int = 10_000) -> None:
        self._answers: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: str) -> tuple[int, bytes] | None:
        with self._lock:
            return self._answers.get(key)

    def put(self, key: str, answer: tuple[int, bytes]) -> None:
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)


def _problem(status: int, title: str, kind: str = "about:blank") -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"type": kind, "title": title, "status": status},
        status_code=status,
        media_type="application/problem+json",
    )


def _handlers(host: Any) -> dict[tuple[str, str], Callable[..., Any]]:
    """What each route does on ``host`` (an object with the contract's methods)."""

    def since(query: dict[str, str]) -> dt.datetime | None:
        if "since" not in query:
            return None
        try:
            return dt.datetime.fromisoformat(query["since"])
        except ValueError:
            raise _BadRequest("since is not an ISO 8601 instant") from None

    def limit(query: dict[str, str]) -> int:
        given = query.get("limit", str(DEFAULT_PAGE_SIZE))
        if not (given.isascii() and given.isdigit() and 1 <= int(given) <= MAX_PAGE_SIZE):
            raise _BadRequest(f"limit is not a number from 1 to {MAX_PAGE_SIZE}")
        return int(given)

    return {
        ("GET", "/structure"): lambda ids, q, body: host.host_structure(),
        ("GET", "/practitioner"): lambda ids, q, body: host.host_practitioner(),
        ("GET", "/patients/{patient_id}"): lambda ids, q, body: host.host_get_patient(
            patient_id=ids["patient_id"]
        ),
        ("POST", "/patients/search"): lambda ids, q, body: {
            "patients": host.host_find_patients(**convert.unstructure(body))
        },
        ("GET", "/patients"): lambda ids, q, body: host.host_patients_page(
            cursor=q.get("cursor"), limit=limit(q)
        ),
        ("POST", "/patients"): lambda ids, q, body: host.host_save_patient(patient=body),
        ("PUT", "/patients/{patient_id}"): lambda ids, q, body: host.host_save_patient(
            patient=body
        ),
        ("PUT", "/documents/{document_id}"): lambda ids, q, body: host.host_store_document(
            document=body
        ),
        ("GET", "/documents/{document_id}"): lambda ids, q, body: host.host_get_document(
            document_id=ids["document_id"]
        ),
        ("PUT", "/messages/{message_id}"): lambda ids, q, body: host.host_store_message(
            message=body
        ),
        ("GET", "/messages/{message_id}"): lambda ids, q, body: host.host_get_message(
            message_id=ids["message_id"]
        ),
        ("GET", "/patients/{patient_id}/documents"): lambda ids, q, body: {
            "documents": host.host_list_documents(patient_id=ids["patient_id"])
        },
        ("GET", "/patients/{patient_id}/dispensations"): lambda ids, q, body: {
            "dispensations": host.host_dispensations(patient_id=ids["patient_id"], since=since(q))
        },
        ("POST", "/dispensations"): lambda ids, q, body: host.host_record_dispensation(
            dispensation=body
        ),
        ("GET", "/patients/{patient_id}/consents/{purpose}"): lambda ids, q, body: (
            host.host_consent(patient_id=ids["patient_id"], purpose=ids["purpose"])
        ),
        ("GET", "/patients/{patient_id}/consents"): lambda ids, q, body: {
            "consents": host.host_consents(patient_id=ids["patient_id"])
        },
        ("POST", "/consents"): lambda ids, q, body: host.host_record_consent(consent=body),
        ("POST", "/decisions"): lambda ids, q, body: host.host_decide(question=body),
    }


def lgo_app(host: Any, *, token: str | None = None, prefix: str = "") -> Any:
    """The host API of :data:`ROUTES` over ``host``, under ``prefix`` (``/segur-host/v1``).

    With ``token`` every call must carry ``Authorization: Bearer <token>`` (401
    otherwise). Identifiers in paths are percent-decoded segment by segment, so that an
    identifier may hold a ``/``. Bodies over :data:`MAX_REQUEST_BYTES` get 413, malformed
    ones 400; a patient, document or consent that does not exist 404 with the problem
    type :data:`~segur_core.host.api.NOT_FOUND`.
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route as StarletteRoute

    handlers = _handlers(host)
    seen = _Idempotency()
    expected = f"Bearer {token}".encode() if token is not None else None

    def endpoint(where: Route) -> Callable[[Request], Awaitable[Response]]:
        handler = handlers[(where.method, where.path)]
        model = _MODELS.get(where.request or "")

        async def answer(request: Request) -> Response:
            if expected is not None:
                given = request.headers.get("authorization", "").encode()
                if not hmac.compare_digest(given, expected):
                    return _problem(401, "a valid bearer token is required")
            key = request.headers.get("idempotency-key")
            if key is not None and (done := seen.get(key)) is not None:
                return Response(done[1], status_code=done[0], media_type="application/json")
            ids = {name: unquote(value) for name, value in request.path_params.items()}
            body = None
            if model is not None:
                declared = request.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
                    return _problem(413, "the request body is too large")
                raw = bytearray()
                async for chunk in request.stream():
                    raw += chunk
                    if len(raw) > MAX_REQUEST_BYTES:
                        return _problem(413, "the request body is too large")
                try:
                    body = convert.structure(json.loads(raw), model)
                except Exception:
                    return _problem(400, f"the body is not a valid {model.__name__}")
                if where.method == "PUT" and ids and getattr(body, "id", None) not in ids.values():
                    return _problem(400, "the identifier of the body is not the one of the path")
            try:
                result = await run_in_threadpool(handler, ids, dict(request.query_params), body)
            except CursorError:
                return _problem(400, "the page cursor is not one this LGO gives", BAD_CURSOR)
            except _BadRequest as exc:
                return _problem(400, str(exc))
            if result is None:
                return _problem(404, "no such record", NOT_FOUND)
            content = json.dumps(convert.unstructure(result), ensure_ascii=False).encode()
            if key is not None:
                seen.put(key, (where.found, content))
            return Response(content, status_code=where.found, media_type="application/json")

        return answer

    routes = [
        StarletteRoute(prefix + where.path, endpoint(where), methods=[where.method])
        for where in sorted(ROUTES, key=lambda r: r.path.count("{"))
    ]
    app = Starlette(routes=routes)
    return _RawPath(app)


class _RawPath:
    """Routes on the request's raw (still percent-encoded) path, so that ``%2F`` in an
    identifier stays inside its segment; the handlers decode each segment."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("raw_path"):
            scope = dict(scope, path=scope["raw_path"].decode("latin-1").split("?", 1)[0])
        await self.app(scope, receive, send)


class ReferenceLgo:
    """The reference LGO side served on loopback over a :class:`ReferenceHost` in
    ``directory`` (``host.sqlite``): ``url`` is the host API's base URL, ``token`` the
    bearer token it requires (``None``: none), ``tls`` a
    :class:`~segur_core.sandbox.server.ServerTLS` for https (mutual when it requires a
    client certificate); ``wrap`` wraps the app (fault injection in tests). A context
    manager; :meth:`close` stops it and closes the database."""

    PREFIX = "/segur-host/v1"

    def __init__(
        self,
        directory: Any,
        *,
        token: str | None = None,
        tls: Any = None,
        host: Any = None,
        wrap: Callable[[Any], Any] | None = None,
    ) -> None:
        from pathlib import Path

        from hostspecs.reference import ReferenceHost
        from segur_core.sandbox.server import ServerThread

        self.host = host if host is not None else ReferenceHost(Path(directory) / "host.sqlite")
        self.token = token
        app = lgo_app(self.host, token=token, prefix=self.PREFIX)
        self.server = ServerThread(wrap(app) if wrap is not None else app, tls=tls)

    @property
    def url(self) -> str:
        return self.server.url + self.PREFIX

    def start(self) -> ReferenceLgo:
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving (the database stays open: :meth:`start` serves it again, on the
        same port)."""
        self.server.stop()

    def close(self) -> None:
        self.server.stop()
        close = getattr(self.host, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> ReferenceLgo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
