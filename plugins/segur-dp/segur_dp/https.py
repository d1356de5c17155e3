"""The HTTPS adapter: :class:`~segur_dp.adapter.DPAdapter` over mutual TLS, speaking the
sandbox DP protocol (:mod:`segur_dp.codec`; the real DP protocol is not public).

One :class:`~segur_core.wire.HttpCaller` carries every call (total deadline, size cap,
typed network failures); answers are read strictly and statuses mapped to the errors of
:mod:`segur_dp.errors`.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Mapping
from typing import Any

from segur_core.errors import RemoteServiceError
from segur_core.wire.http import CallLimits, HttpCaller
from segur_dp.codec import alert_from_json, dumps, line_from_json, line_to_json, loads_object
from segur_dp.depth import Category
from segur_dp.errors import DPAnswerError, DPRefused, DPUnavailable, NoDossier, PatientKeyError
from segur_dp.model import Alert, DispensationRecord, Dossier, DPPatient, HistoryLine, check_ndp

__all__ = ["HttpsAdapter"]

_CREATE = frozenset({"created", "exists", "refused"})
_RECORD = frozenset({"recorded", "duplicate"})


def _patient(patient: DPPatient) -> dict[str, Any]:
    if patient.ndp is not None:
        return {"ndp": patient.ndp}
    return {"nir": patient.nir, "rank": patient.rank}


class HttpsAdapter:
    """The DP at ``base_url`` (``https://...``, no trailing slash needed)."""

    def __init__(
        self,
        base_url: str,
        *,
        ssl_context: ssl.SSLContext | None,
        timeout: float = 15.0,
        max_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._caller = HttpCaller(
            service="dp",
            ssl_context=ssl_context,
            limits=CallLimits(deadline=timeout, max_bytes=max_bytes),
            tls_table="dp.tls",
        )

    def close(self) -> None:
        self._caller.close()

    def __enter__(self) -> HttpsAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        try:
            answer = self._caller.post(self.base_url + path, dumps(body), headers)
        except RemoteServiceError as exc:
            if exc.transient:
                raise DPUnavailable(str(exc).removeprefix("dp: "), code=exc.code) from exc
            raise
        if answer.status >= 500:
            raise DPUnavailable(f"the DP service answered {answer.status}", code=str(answer.status))
        data = loads_object(answer.content)
        if answer.status == 200:
            return data
        code = data.get("error")
        if not isinstance(code, str) or not code:
            raise DPAnswerError(f"status {answer.status} without an error code")
        if code == "no-dossier":
            raise NoDossier()
        message = data.get("message")
        raise DPRefused(
            message if isinstance(message, str) and len(message) < 500 else "refused", code=code
        )

    def history(
        self, patient: DPPatient, since: Mapping[Category, dt.datetime]
    ) -> tuple[HistoryLine, ...]:
        body = {**_patient(patient), "since": {c.value: t.isoformat() for c, t in since.items()}}
        lines = self._call("/history", body).get("lines")
        if not isinstance(lines, list):
            raise DPAnswerError("lines: expected a list")
        found = tuple(line_from_json(item, f"lines[{i}]") for i, item in enumerate(lines))
        for line in found:
            oldest = since.get(line.category)
            if oldest is None or line.dispensed_at < oldest:
                raise DPAnswerError("lines: a line older than the depth asked")
        return tuple(sorted(found, key=lambda line: line.dispensed_at, reverse=True))

    def _status(self, data: Mapping[str, Any], allowed: frozenset[str]) -> str:
        status = data.get("status")
        if status not in allowed:
            raise DPAnswerError(f"status: expected one of {', '.join(sorted(allowed))}")
        return str(status)

    def create(self, patient: DPPatient, *, consent: bool, pharmacy: str) -> Dossier:
        body = {**_patient(patient), "consent": consent, "pharmacy": pharmacy}
        data = self._call("/dossiers", body)
        status = self._status(data, _CREATE)
        ndp = data.get("ndp")
        if (status == "refused") != (ndp is None):
            raise DPAnswerError("ndp: expected for a dossier, and only for one")
        try:
            return Dossier(status, None if ndp is None else check_ndp(ndp))
        except PatientKeyError:
            raise DPAnswerError("ndp: not an NDP") from None

    def record(self, record: DispensationRecord, *, pharmacy: str) -> str:
        body = {
            "key": record.key,
            **_patient(record.patient),
            "pharmacy": pharmacy,
            "line": line_to_json(record.line),
        }
        return self._status(self._call("/dispensations", body), _RECORD)

    def alerts(self, *, pharmacy: str) -> tuple[Alert, ...]:
        items = self._call("/alerts", {"pharmacy": pharmacy}).get("alerts")
        if not isinstance(items, list):
            raise DPAnswerError("alerts: expected a list")
        return tuple(alert_from_json(item, f"alerts[{i}]") for i, item in enumerate(items))

    def acknowledge(self, alert_id: str, *, pharmacy: str, by: str) -> None:
        body = {"id": alert_id, "pharmacy": pharmacy, "by": by}
        self._status(self._call("/alerts/acknowledge", body), frozenset({"acknowledged"}))
