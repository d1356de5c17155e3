"""The HTTPS gateway of the sandbox wire (see :mod:`segur_eprescription.sandbox`): JSON
over HTTPS POST with mutual TLS, through the core's :class:`~segur_core.wire.HttpCaller`
(a total deadline and a size cap per call). Answers are untrusted: each is checked and
anything unusable is a typed error."""

from __future__ import annotations

import base64
import binascii
import json
import ssl
from typing import Any

from segur_core.errors import InputError
from segur_core.wire.http import CallLimits, HttpCaller
from segur_eprescription.adapter import Ack, Fetched
from segur_eprescription.dispensation import DispensationReport, report_to_json
from segur_eprescription.epmeddm import MAX_PRESCRIPTION_BYTES, read_prescription
from segur_eprescription.errors import (
    AlreadyDispensed,
    EPrescriptionServiceError,
    PrescriptionFormatError,
    PrescriptionNotFound,
)
from segur_eprescription.ids import check_prescription_id

__all__ = ["SERVICE", "HttpsGateway"]

SERVICE = "eprescription"
_JSON = {"Content-Type": "application/json", "Accept": "application/json"}


class HttpsGateway:
    """An :class:`~segur_eprescription.adapter.EPrescriptionGateway` over HTTPS."""

    def __init__(
        self, base_url: str, *, ssl_context: ssl.SSLContext, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        limits = CallLimits(deadline=timeout, max_bytes=2 * MAX_PRESCRIPTION_BYTES)
        self._caller = HttpCaller(
            service=SERVICE, ssl_context=ssl_context, limits=limits, tls_table="eprescription.tls"
        )

    def close(self) -> None:
        self._caller.close()

    def _call(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        answer = self._caller.post(self.base_url + path, body, _JSON)
        try:
            value = json.loads(answer.content)
        except (ValueError, RecursionError):
            value = None
        if not isinstance(value, dict):
            raise EPrescriptionServiceError(
                f"the service answered HTTP {answer.status} without a JSON object",
                service=SERVICE, code="answer", transient=answer.status >= 500,
            )  # fmt: skip
        if answer.status >= 400:
            raise _refusal(answer.status, value)
        return answer.status, value

    def get_prescription(self, prescription_id: str) -> Fetched:
        check_prescription_id(prescription_id)
        _, value = self._call("/prescriptions/read", json.dumps({"id": prescription_id}).encode())
        try:
            cda = base64.b64decode(str(value["cda"]), validate=True)
            state = _counts(value)
        except (KeyError, ValueError, TypeError, binascii.Error):
            raise _bad("the prescription answer is malformed") from None
        try:
            prescription = read_prescription(cda)
        except PrescriptionFormatError:
            raise
        except InputError as exc:  # pragma: no cover - the reader types its errors
            raise _bad(exc.message) from None
        if prescription.id != prescription_id:
            raise _bad("the service answered with another prescription")
        return Fetched(prescription, **state)

    def record_dispensation(self, report: DispensationReport) -> Ack:
        _, value = self._call("/dispensations", report_to_json(report))
        try:
            if not isinstance(value["ack"], str):
                raise ValueError("ack")
            return Ack(ack=value["ack"], duplicate=value.get("duplicate") is True, **_counts(value))
        except (KeyError, ValueError, TypeError):
            raise _bad("the acknowledgement is malformed") from None


def _counts(value: dict[str, Any]) -> dict[str, Any]:
    done, allowed, open_ = value["done"], value["allowed"], value.get("open", False)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (done, allowed)):
        raise ValueError("counts")
    if not 0 <= done <= allowed <= 100 or not isinstance(open_, bool):
        raise ValueError("counts")
    return {"done": done, "allowed": allowed, "open": open_}


def _bad(message: str) -> EPrescriptionServiceError:
    return EPrescriptionServiceError(message, service=SERVICE, code="answer")


def _refusal(status: int, value: dict[str, Any]) -> EPrescriptionServiceError:
    code = value.get("code") if isinstance(value.get("code"), str) else None
    message = value.get("message") if isinstance(value.get("message"), str) else ""
    message = message[:300]
    if status == 404 and code == "UNKNOWN":
        return PrescriptionNotFound(
            "no prescription with this id", service=SERVICE, code=code,
            hint="check the number against the paper prescription",
        )  # fmt: skip
    if status == 409 and code == "DISPENSED":
        return AlreadyDispensed(
            "this prescription was already fully dispensed (single use, renewals included)",
            service=SERVICE, code=code,
            hint="it cannot be dispensed again; ask the patient for a new prescription",
        )  # fmt: skip
    return EPrescriptionServiceError(
        f"HTTP {status}: {message or 'refused'}", service=SERVICE, code=code,
        transient=status >= 500 or status == 429,
    )  # fmt: skip
