"""An :class:`~segur_vitale.apcv.adapter.ApcvAdapter` over HTTPS with mutual TLS (the
core's :class:`~segur_core.wire.HttpCaller`: ``timeout`` is the total deadline of a call,
an answer over 1 MB is refused while it streams).

ASSUMED wire format (segur's own; the real ApCV API is not public):

``POST {endpoint}/apcv/v1/identify`` with JSON ``{"mode": "qr"|"nfc", "payload": str}``
(NFC bytes in base64), authenticated by the pharmacy's IGC-Santé structure certificate.
``200`` → ``{"context": str, "beneficiaries": [{"rank", "birth_name", "first_names",
"sex", "birth_date", "birth_place", "nir", "insured_nir"}]}``; ``410`` expired context,
``404`` unknown context, ``400`` malformed payload, ``401``/``403`` refused certificate,
``5xx`` a transient failure. Errors carry ``{"error": code, "message": text}``.
"""

from __future__ import annotations

import json
import re
import ssl
from typing import Any

from segur_core.errors import InputError
from segur_core.model import BirthDate, CardReading, IdentityTraits, ReadingSource
from segur_core.wire.errors import CallTimeout, ServiceUnreachable
from segur_core.wire.http import HTTPX_HEADERS, Answer, CallLimits, HttpCaller
from segur_vitale.apcv.adapter import ApcvRequest
from segur_vitale.errors import (
    ApcvContextExpiredError,
    ApcvContextUnknownError,
    ApcvError,
    ApcvPayloadError,
)

__all__ = ["IDENTIFY_PATH", "HttpApcvAdapter", "readings_from_json"]

IDENTIFY_PATH = "/apcv/v1/identify"
#: The largest answer read (a few beneficiaries in JSON).
MAX_ANSWER_BYTES = 1024 * 1024


_NIR = re.compile(r"^[0-9]{6}[0-9AB][0-9]{8}$")
_PLACE = re.compile(r"^[0-9AB]{5}$")


def _text(item: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    """A non-empty printable string field (``None`` when optional and absent)."""
    value = item.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise ValueError(f"{key} must be a non-empty string")
    return value.strip()


def _nir(item: dict[str, Any], key: str) -> str | None:
    value = _text(item, key, required=False)
    if value is not None and not _NIR.fullmatch(value.upper()):
        raise ValueError(f"{key} is not 15 characters of a NIR")
    return value.upper() if value is not None else None


def readings_from_json(data: Any) -> tuple[CardReading, ...]:
    """The service's ``beneficiaries`` list → ``CardReading(source=APCV)`` objects.

    The answer comes from outside: every field is checked for its type and shape (NIRs
    of 15 characters, a 5-character birthplace, a list of first names, an integer
    rank) so that nothing malformed reaches an INSi request; else :class:`ApcvError`.
    """
    try:
        items = data["beneficiaries"]
        if not isinstance(items, list) or not items or len(items) > 16:
            raise ValueError("beneficiaries must be a list of 1 to 16 entries")
        out = []
        for position, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise ValueError("a beneficiary must be an object")
            names = item["first_names"]
            if not isinstance(names, list) or not names:
                raise ValueError("first_names must be a non-empty list")
            first_names = tuple(_text({"n": n}, "n") for n in names)
            place = _text(item, "birth_place", required=False)
            if place is not None and not _PLACE.fullmatch(place):
                raise ValueError("birth_place must be a 5-character INSEE code")
            rank = item.get("rank", position)
            if type(rank) is not int or not 1 <= rank <= 16:
                raise ValueError("rank must be an integer from 1 to 16")
            traits = IdentityTraits(
                birth_name=_text(item, "birth_name"),
                first_names=first_names,
                sex=item["sex"],
                birth_date=BirthDate.parse(str(item["birth_date"])),
                birth_place=place,
            )
            out.append(CardReading(
                source=ReadingSource.APCV, traits=traits, nir=_nir(item, "nir"),
                insured_nir=_nir(item, "insured_nir"), beneficiary_rank=rank,
                reader="appli carte Vitale"))
        if len({r.beneficiary_rank for r in out}) != len(out):
            raise ValueError("two beneficiaries share a rank")
        return tuple(out)
    except (KeyError, TypeError, ValueError) as error:
        raise ApcvError("the ApCV service answered an identity segur cannot read",
                        code="bad-answer") from error


class HttpApcvAdapter:
    """Talks to the ApCV service at ``endpoint`` with the TLS context ``ssl_context``
    (build it with :func:`segur_core.tls.client_context`: server CA + client cert)."""

    def __init__(self, endpoint: str, ssl_context: ssl.SSLContext, *,
                 timeout: float = 10.0) -> None:
        if not endpoint.startswith("https://"):
            raise InputError("the ApCV endpoint must be an https:// URL",
                             hint="mutual TLS is mandatory; no plaintext fallback")
        self.endpoint = endpoint.rstrip("/")
        limits = CallLimits(timeout, max_bytes=MAX_ANSWER_BYTES)
        self._http = HttpCaller(service="apcv", ssl_context=ssl_context, limits=limits,
                                tls_table="vitale.apcv_tls")

    def identify(self, request: ApcvRequest) -> tuple[CardReading, ...]:
        body = {"mode": request.mode.value, "payload": request.wire_payload()}
        # what httpx's json= sent: compact, UTF-8, no NaN
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        headers = {**HTTPX_HEADERS, "Content-Type": "application/json"}
        try:
            response = self._http.post(self.endpoint + IDENTIFY_PATH, content.encode(), headers)
        except CallTimeout as error:
            raise ApcvError("the ApCV service did not answer in time", code="timeout",
                            transient=True) from error
        except ServiceUnreachable as error:
            raise ApcvError(f"cannot reach the ApCV service ({type(error.__cause__).__name__})",
                            code="unreachable", transient=True,
                            hint="check the network and the TLS certificates") from error
        if response.status == 200:
            try:
                data = json.loads(response.content)
            except ValueError as error:
                raise ApcvError("the ApCV service answered non-JSON",
                                code="bad-answer") from error
            return readings_from_json(data)
        code, message = self._error(response)
        status = response.status
        if status == 410:
            raise ApcvContextExpiredError(message, code=code,
                                          hint="ask the patient to show a new QR code")
        if status == 404:
            raise ApcvContextUnknownError(message, code=code,
                                          hint="ask the patient to show a new QR code")
        if status == 400:
            raise ApcvPayloadError(f"apcv: {message} [{code}]")
        if status in (401, 403):
            raise ApcvError(message, code=code, transient=False,
                            hint="check the structure certificate configured for ApCV")
        raise ApcvError(message, code=code or str(status), transient=status >= 500)

    @staticmethod
    def _error(response: Answer) -> tuple[str, str]:
        try:
            data = json.loads(response.content)
            return str(data.get("error", response.status)), str(
                data.get("message", "request refused"))[:200]
        except (ValueError, AttributeError):
            return str(response.status), f"HTTP {response.status}"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpApcvAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
