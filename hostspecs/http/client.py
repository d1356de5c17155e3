"""The host contract implemented by calling the LGO's own HTTP endpoints.

:class:`HttpHost` is a host like any other (``@hostimpl`` methods, registered by the
runtime): each hook is one call of :data:`~segur_core.host.api.ROUTES`, with the
model's JSON form (:mod:`segur_core.convert`) both ways. Calls go through the core's
:class:`~segur_core.wire.HttpCaller`: a total deadline, a size-capped streamed answer,
TLS (mutual when a client certificate is configured), failures typed
(:mod:`hostspecs.http.errors`). Writes that are not idempotent by nature (a creation,
an appended record) carry an ``Idempotency-Key``, kept when a transient failure is
retried, so that an LGO honouring it never records one twice. Logs name the route and
the status, never an identifier or a trait.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import cattrs

from hostspecs.http.errors import (
    HostAnswerError,
    HostCertificateError,
    HostCursorError,
    HostRefused,
    HostTimeout,
    HostUnavailable,
)
from hostspecs.http.settings import HttpHostSettings
from segur_core import convert
from segur_core.host import hostimpl
from segur_core.host.api import BAD_CURSOR, NOT_FOUND, PatientQuery, Route, route
from segur_core.host.paging import PatientPage
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
from segur_core.wire import (
    AnswerTooLarge,
    CallTimeout,
    HttpCaller,
    ServerCertificateError,
    ServiceUnreachable,
)

__all__ = ["HttpHost"]

log = logging.getLogger("segur.host.http")

T = TypeVar("T")

#: Statuses after which the same call may succeed (a proxy or the LGO restarting).
_RETRY_STATUSES = frozenset({502, 503, 504})
_RETRY_PAUSE = 0.2


def _problem(content: bytes) -> Mapping[str, Any]:
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _field_errors(exc: Exception) -> str:
    """Where a value of the wrong shape sits (``$.identity.traits.sex``), never the value."""
    if not isinstance(exc, cattrs.BaseValidationError):
        return type(exc).__name__

    def shape(error: BaseException, expected: Any) -> str:
        name = getattr(expected, "__name__", None)
        return f"invalid value, expected {name}" if name else "invalid value"

    return "; ".join(cattrs.transform_error(exc, format_exception=shape)[:3])


class HttpHost:
    """The host contract over the LGO's HTTP API (``[host]`` settings). Thread-safe;
    :meth:`close` closes its pooled connections."""

    def __init__(self, settings: HttpHostSettings) -> None:
        self.settings = settings
        self._base = settings.url.rstrip("/")
        self._caller = HttpCaller(
            service="host",
            ssl_context=settings.ssl_context() if settings.is_https else None,
            limits=settings.limits,
            max_connections=settings.max_connections,
            tls_table="host.tls",
        )
        self._headers = {"Accept": "application/json"}
        if settings.token is not None:
            self._headers["Authorization"] = f"Bearer {settings.token.reveal()}"

    def __repr__(self) -> str:
        return f"HttpHost({self._base!r})"

    def close(self) -> None:
        self._caller.close()

    def __enter__(self) -> HttpHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one call -------------------------------------------------------------------------

    def _url(self, where: Route, ids: Mapping[str, str], query: Mapping[str, str]) -> str:
        path = where.path.format_map({k: quote(v, safe="") for k, v in ids.items()})
        return self._base + path + (f"?{urlencode(query)}" if query else "")

    def _call(
        self,
        method: str,
        path: str,
        *,
        ids: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        """The decoded JSON answer of one route, ``None`` for the contract's "not found"."""
        where = route(method, path)
        url = self._url(where, ids or {}, query or {})
        headers = dict(self._headers)
        content = None
        if body is not None:
            content = json.dumps(convert.unstructure(body), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
            if method == "POST":
                headers["Idempotency-Key"] = uuid.uuid4().hex
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._once(where, url, content, headers)
            except HostUnavailable as exc:
                if attempt == attempts or isinstance(exc, HostTimeout):
                    raise
                if exc.status is not None and exc.status not in _RETRY_STATUSES:
                    raise
                log.info("host %s: %s; calling again", where.operation, exc.code)
                time.sleep(_RETRY_PAUSE * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, where: Route, url: str, content: bytes | None, headers: dict) -> Any:
        operation = where.operation
        started = time.monotonic()
        try:
            answer = self._caller.request(where.method, url, content, headers)
        except CallTimeout as exc:
            raise HostTimeout(
                f"no complete answer within {self.settings.deadline:g} s",
                operation=operation,
                code="timeout",
            ) from exc
        except ServerCertificateError as exc:
            raise HostCertificateError(
                "the LGO's certificate is not trusted",
                operation=operation,
                code="tls",
                hint=exc.hint,
            ) from exc
        except ServiceUnreachable as exc:
            raise HostUnavailable(
                "the LGO cannot be reached",
                operation=operation,
                code="unreachable",
                hint="check that the LGO is running and [host] url",
            ) from exc
        except AnswerTooLarge as exc:
            raise HostAnswerError(
                f"the answer is larger than the cap ({self.settings.max_bytes} bytes)",
                operation=operation,
                code="too-large",
                hint="raise [host] max_bytes if it is legitimate",
            ) from exc
        status = answer.status
        log.debug(
            "host %s -> %d in %.0f ms", operation, status, (time.monotonic() - started) * 1000
        )
        if status == where.found:
            return self._json(where, answer.content, answer.content_type, status)
        problem = _problem(answer.content)
        title = str(problem.get("title", ""))[:200]
        if status == 404 and where.may_be_absent and problem.get("type") == NOT_FOUND:
            return None
        if status == 400 and problem.get("type") == BAD_CURSOR:
            raise HostCursorError(
                "the LGO did not give this page cursor", operation=operation, status=status
            )
        if status >= 500:
            raise HostUnavailable(
                f"the LGO answered {status}",
                operation=operation,
                status=status,
                code=f"http-{status}",
            )
        if 400 <= status < 500 and status != 404:
            hint = "check [host] token" if status in (401, 403) else None
            raise HostRefused(
                f"the LGO refused the request ({status}{': ' + title if title else ''})",
                operation=operation,
                status=status,
                code=f"http-{status}",
                hint=hint,
            )
        raise HostAnswerError(
            f"unexpected status {status} (expected {where.found})",
            operation=operation,
            status=status,
            code="status",
            hint="check [host] url: a 404 without the contract's not-found problem is a wrong path"
            if status == 404
            else None,
        )

    def _json(self, where: Route, content: bytes, content_type: str, status: int) -> Any:
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise HostAnswerError(
                f"the answer is {media or 'untyped'}, not application/json",
                operation=where.operation,
                status=status,
                code="not-json",
            )
        try:
            data = json.loads(content)
        except (ValueError, RecursionError) as exc:
            raise HostAnswerError(
                "the answer is not well-formed JSON",
                operation=where.operation,
                status=status,
                code="not-json",
            ) from exc
        if where.answer_key is not None:
            items = data.get(where.answer_key) if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise HostAnswerError(
                    f"the answer has no list {where.answer_key!r}",
                    operation=where.operation,
                    status=status,
                    code="shape",
                )
            return items
        return data

    def _value(self, where: tuple[str, str], data: Any, cls: type[T]) -> T:
        try:
            return convert.structure(data, cls)
        except Exception as exc:
            operation = route(*where).operation
            raise HostAnswerError(
                f"the answer is not a {cls.__name__}: {_field_errors(exc)}",
                operation=operation,
                code="shape",
            ) from None

    def _values(self, where: tuple[str, str], data: list, cls: type[T]) -> list[T]:
        return [self._value(where, item, cls) for item in data]

    def _get(self, method: str, path: str, cls: type[T], **kwargs: Any) -> T:
        return self._value((method, path), self._call(method, path, **kwargs), cls)

    def _maybe(self, method: str, path: str, cls: type[T], **kwargs: Any) -> T | None:
        data = self._call(method, path, **kwargs)
        return None if data is None else self._value((method, path), data, cls)

    # -- the contract ---------------------------------------------------------------------

    @hostimpl
    def host_structure(self) -> Structure:
        return self._get("GET", "/structure", Structure)

    @hostimpl
    def host_practitioner(self) -> Practitioner:
        return self._get("GET", "/practitioner", Practitioner)

    @hostimpl
    def host_get_patient(self, patient_id: str) -> Patient | None:
        return self._maybe("GET", "/patients/{patient_id}", Patient, ids={"patient_id": patient_id})

    @hostimpl
    def host_find_patients(
        self,
        birth_name: str | None,
        first_name: str | None,
        birth_date: str | None,
        ins_matricule: str | None,
    ) -> list[Patient]:
        query = PatientQuery(birth_name, first_name, birth_date, ins_matricule)
        where = ("POST", "/patients/search")
        return self._values(where, self._call(*where, body=query), Patient)

    @hostimpl
    def host_patients_page(self, cursor: str | None, limit: int) -> PatientPage:
        if cursor is None:
            try:
                return self._get("GET", "/patients", PatientPage, query={"limit": str(limit)})
            except (HostAnswerError, HostRefused) as exc:
                if exc.status not in (404, 405):
                    raise
                status = exc.status
            # the route is optional: an LGO without it is listed all at once
            log.info("host GET /patients is not served (%s); listing at once", status)
            return PatientPage(self.host_find_patients(None, None, None, None))
        query = {"cursor": cursor, "limit": str(limit)}
        return self._get("GET", "/patients", PatientPage, query=query)

    @hostimpl
    def host_save_patient(self, patient: Patient) -> Patient:
        if not patient.id:
            return self._get("POST", "/patients", Patient, body=patient)
        return self._get(
            "PUT", "/patients/{patient_id}", Patient, ids={"patient_id": patient.id}, body=patient
        )

    @hostimpl
    def host_store_document(self, document: HealthDocument) -> HealthDocument:
        return self._get(
            "PUT",
            "/documents/{document_id}",
            HealthDocument,
            ids={"document_id": document.id},
            body=document,
        )

    @hostimpl
    def host_get_document(self, document_id: str) -> HealthDocument | None:
        return self._maybe(
            "GET", "/documents/{document_id}", HealthDocument, ids={"document_id": document_id}
        )

    @hostimpl
    def host_store_message(self, message: ReceivedMessage) -> ReceivedMessage:
        return self._get(
            "PUT",
            "/messages/{message_id}",
            ReceivedMessage,
            ids={"message_id": message.id},
            body=message,
        )

    @hostimpl
    def host_get_message(self, message_id: str) -> ReceivedMessage | None:
        return self._maybe(
            "GET", "/messages/{message_id}", ReceivedMessage, ids={"message_id": message_id}
        )

    @hostimpl
    def host_list_documents(self, patient_id: str) -> list[HealthDocument]:
        where = ("GET", "/patients/{patient_id}/documents")
        data = self._call(*where, ids={"patient_id": patient_id})
        return self._values(where, data, HealthDocument)

    @hostimpl
    def host_dispensations(self, patient_id: str, since: dt.datetime | None) -> list[Dispensation]:
        where = ("GET", "/patients/{patient_id}/dispensations")
        query = {"since": convert.unstructure(since)} if since is not None else None
        data = self._call(*where, ids={"patient_id": patient_id}, query=query)
        return self._values(where, data, Dispensation)

    @hostimpl
    def host_record_dispensation(self, dispensation: Dispensation) -> Dispensation:
        return self._get("POST", "/dispensations", Dispensation, body=dispensation)

    @hostimpl
    def host_consent(self, patient_id: str, purpose: str) -> Consent | None:
        return self._maybe(
            "GET",
            "/patients/{patient_id}/consents/{purpose}",
            Consent,
            ids={"patient_id": patient_id, "purpose": purpose},
        )

    @hostimpl
    def host_consents(self, patient_id: str) -> list[Consent] | None:
        where = ("GET", "/patients/{patient_id}/consents")
        try:
            data = self._call(*where, ids={"patient_id": patient_id})
        except (HostAnswerError, HostRefused) as exc:
            if exc.status not in (404, 405):
                raise
            return None  # the route is optional: an LGO without it keeps no history at hand
        return self._values(where, data, Consent)

    @hostimpl
    def host_record_consent(self, consent: Consent) -> Consent:
        return self._get("POST", "/consents", Consent, body=consent)

    @hostimpl
    def host_decide(self, question: Question) -> Answer:
        return self._get("POST", "/decisions", Answer, body=question)
