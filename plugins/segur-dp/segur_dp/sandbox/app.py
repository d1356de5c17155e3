"""The sandbox DP's request handling: JSON in, ``(status, JSON)`` out, with the DP's
rules — a dossier is known by the NIR and rank or by the NDP assigned when it is
opened (and answered then), no DP without consent (a refusal is recorded and then answered ``403
consent-refused``), history filtered by the depth asked, dispensations unique on their
key, alerts and recalls pending until each pharmacy acknowledges them.

Requests are read as strictly as answers: a malformed one is ``400 bad-request``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from segur_core.errors import SegurError
from segur_dp.codec import line_from_json, loads_object, parse_time
from segur_dp.depth import Category
from segur_dp.model import check_ndp, check_nir
from segur_dp.sandbox.store import DPStore

__all__ = ["DPApp", "Refusal"]


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> Refusal:
    return Refusal(400, "bad-request", message)


def _patient(body: dict[str, Any], store: DPStore) -> tuple[str, int]:
    """The ``(nir, rank)`` a request is about: by its ``ndp`` when given (an unknown one
    is ``404 no-dossier``), else by its ``nir`` and ``rank``."""
    if "ndp" in body:
        try:
            ndp = check_ndp(body["ndp"])
        except SegurError:
            raise _bad("ndp: not an NDP") from None
        found = store.by_ndp(ndp)
        if found is None:
            raise Refusal(404, "no-dossier", "the patient has no DP")
        return found
    try:
        nir = check_nir(body.get("nir"))
    except SegurError:
        raise _bad("nir: not a NIR") from None
    rank = body.get("rank", 1)
    if not isinstance(rank, int) or isinstance(rank, bool) or not 1 <= rank <= 99:
        raise _bad("rank: expected 1..99")
    return nir, rank


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > 200:
        raise _bad(f"{name}: expected a string")
    return value


class DPApp:
    """Handles one request of the sandbox protocol against a :class:`DPStore`."""

    def __init__(self, store: DPStore) -> None:
        self.store = store
        self._routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "/history": self.history,
            "/dossiers": self.create,
            "/dispensations": self.record,
            "/alerts": self.alerts,
            "/alerts/acknowledge": self.acknowledge,
        }

    def handle(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        route = self._routes.get(path)
        try:
            if route is None:
                raise Refusal(404, "not-found", "no such operation")
            return 200, route(loads_object(body, _bad))
        except Refusal as refusal:
            return refusal.status, {"error": refusal.code, "message": refusal.message}

    def _dossier(self, nir: str, rank: int) -> None:
        consent = self.store.consent(nir, rank)
        if consent is None:
            raise Refusal(404, "no-dossier", "the patient has no DP")
        if not consent:
            raise Refusal(403, "consent-refused", "the patient refused the DP")

    def history(self, body: dict[str, Any]) -> dict[str, Any]:
        nir, rank = _patient(body, self.store)
        since = body.get("since")
        if not isinstance(since, dict) or not since:
            raise _bad("since: expected an object by category")
        try:
            asked = {Category(k): parse_time(v, f"since.{k}") for k, v in since.items()}
        except (ValueError, SegurError) as exc:
            raise _bad(f"since: {exc}") from None
        self._dossier(nir, rank)
        from segur_dp.codec import line_to_json

        return {"lines": [line_to_json(line) for line in self.store.lines(nir, rank, asked)]}

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        nir, rank = _patient(body, self.store)
        consent = body.get("consent")
        if not isinstance(consent, bool):
            raise _bad("consent: expected true or false")
        pharmacy = _text(body, "pharmacy")
        before = self.store.consent(nir, rank)
        self.store.set_consent(nir, rank, consent, pharmacy)
        if not consent:
            return {"status": "refused"}
        ndp = self.store.assign_ndp(nir, rank)
        return {"status": "exists" if before else "created", "ndp": ndp}

    def record(self, body: dict[str, Any]) -> dict[str, Any]:
        nir, rank = _patient(body, self.store)
        key = _text(body, "key")
        _text(body, "pharmacy")
        try:
            line = line_from_json(body.get("line"))
        except SegurError as exc:
            raise _bad(str(exc)) from None
        if line.dispensed_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=1):
            raise _bad("line.dispensed_at: in the future")
        self._dossier(nir, rank)
        return {"status": "recorded" if self.store.add_line(key, nir, rank, line) else "duplicate"}

    def alerts(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"alerts": self.store.pending(_text(body, "pharmacy"))}

    def acknowledge(self, body: dict[str, Any]) -> dict[str, Any]:
        ident, pharmacy, by = (_text(body, name) for name in ("id", "pharmacy", "by"))
        if not self.store.acknowledge(ident, pharmacy, by):
            raise Refusal(404, "unknown-alert", "no such alert or recall")
        return {"status": "acknowledged"}
