"""The e-prescription sandbox: a local stand-in for the CNAM's e-prescription service,
served with mutual TLS on loopback (``segur_sandboxes`` name ``eprescription``).

The CNAM's transport is not public (§5.1 of the reference): the wire here is segur's own
and small, JSON over HTTPS POST, behind the plugin's adapter boundary:

- ``POST /prescriptions/read`` ``{"id": ID}`` → ``200 {"cda": base64 eP-MED-DM, "done",
  "allowed", "open"}``; ``404`` unknown id, ``409`` fully dispensed;
- ``POST /prescriptions`` an eP-MED-DM document → ``201 {"id": ID}`` (a prescription
  received another way, MSSanté for one, is the same document);
- ``POST /dispensations`` a dispensation report (segur's JSON) → ``200 {"ack", "done",
  "allowed", "open"}``, idempotent on its ``report_id``;

errors are ``{"code", "message"}``. ``faults`` is the core fault injector;
``lose_replies`` drops the answers of the next N recorded reports (the report is
recorded, the client sees a 503), for the sent-once tests.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from segur_core.errors import InputError
from segur_core.sandbox import Sandbox
from segur_eprescription.sandbox.prescriptions import SEEDS, SeedLine, prescription_cda
from segur_eprescription.sandbox.store import Refusal, Store, Stored

__all__ = ["EPrescriptionSandbox", "Refusal", "SeedLine", "Store", "Stored", "prescription_cda"]

MAX_REQUEST = 16 * 1024 * 1024
SEED_DATE = dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))


class EPrescriptionSandbox(Sandbox):
    """The sandbox e-prescription service; ``store`` holds its state."""

    name = "eprescription"

    def __init__(self, *, pki: Any, seed: bool = True, **kwargs: Any) -> None:
        super().__init__(pki=pki, **kwargs)
        self.store = Store()
        self.lose_replies = 0
        #: raw answers ``(status, body)`` given to the next requests instead of the
        #: service's, for the malformed-answer tests
        self.raw_answers: list[tuple[int, bytes]] = []
        if seed:
            for ident, lines in SEEDS.items():
                self.store.add(prescription_cda(ident, lines, issued_at=SEED_DATE))

    def handle(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """One request: ``(status, JSON answer)``."""
        from segur_eprescription.dispensation import report_from_json

        try:
            if len(body) > MAX_REQUEST:
                raise Refusal(413, "TOO_LARGE", "the request is too large")
            if path == "/prescriptions":
                try:
                    added = self.store.add(body)
                except InputError as exc:
                    raise Refusal(400, "CDA", exc.message) from None
                return 201, {"id": added.id}
            if path == "/prescriptions/read":
                ident = _json(body).get("id")
                if not isinstance(ident, str):
                    raise Refusal(400, "REQUEST", "the request names no prescription id")
                state = self.store.read(ident)
                cda = self.store.get(ident).cda
                return 200, {"cda": base64.b64encode(cda).decode("ascii"), **state}
            if path == "/dispensations":
                try:
                    report = report_from_json(body)
                except InputError as exc:
                    raise Refusal(400, "REPORT", exc.message) from None
                ack = self.store.record(report)
                if self.lose_replies > 0 and not ack.get("duplicate"):
                    self.lose_replies -= 1
                    return 503, {"code": "LOST", "message": "the answer was lost"}
                return 200, ack
            raise Refusal(404, "PATH", "no such service")
        except Refusal as refusal:
            return refusal.status, {"code": refusal.code, "message": refusal.message}

    def build_app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route

        async def endpoint(request: Request) -> Response:
            body = await request.body()
            if self.raw_answers:
                status, raw = self.raw_answers.pop(0)
                return Response(raw, status_code=status, media_type="application/json")
            status, answer = await run_in_threadpool(self.handle, request.url.path, body)
            return JSONResponse(answer, status_code=status)

        paths = ("/prescriptions", "/prescriptions/read", "/dispensations")
        return Starlette(routes=[Route(p, endpoint, methods=["POST"]) for p in paths])


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise Refusal(400, "REQUEST", "the request is not JSON") from None
    if not isinstance(value, dict):
        raise Refusal(400, "REQUEST", "the request is not a JSON object")
    return value
