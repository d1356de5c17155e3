"""The sandbox DP service: the sandbox protocol (:mod:`segur_dp.codec`) over HTTPS with
mutual TLS on loopback (``segur_sandboxes`` name ``dp``), with the core's fault
injection. The real DP protocol is not public; this is a simulator designed from the
DP's published rules (consent, consultation windows, alerts and recalls)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from segur_core.sandbox import Sandbox
from segur_dp.model import Alert, AlertKind
from segur_dp.sandbox.app import DPApp
from segur_dp.sandbox.store import DPStore

__all__ = ["SEED_ALERTS", "DPApp", "DPSandbox", "DPStore"]

#: What a new sandbox DP pushes to pharmacies: one health alert, one batch recall.
SEED_ALERTS = (
    Alert(
        id="DPA-2026-0001",
        kind=AlertKind.ALERT,
        title="Alerte sanitaire (bac à sable) : rupture de stock signalée",
        issued_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC),
        body="Exemple d'alerte DP-Alertes du bac à sable.",
    ),
    Alert(
        id="DPR-2026-0001",
        kind=AlertKind.RECALL,
        title="Rappel de lot (bac à sable)",
        issued_at=dt.datetime(2026, 11, 3, 14, 30, tzinfo=dt.UTC),
        body="Exemple de DP-Rappels du bac à sable : retirer le lot indiqué.",
        products=("3400930000000",),
    ),
)


class DPSandbox(Sandbox):
    """The sandbox DP. ``store`` is its SQLite state (``db_path`` or in memory), seeded
    with :data:`SEED_ALERTS`; ``faults`` the core fault injector."""

    name = "dp"

    def __init__(self, *, pki: Any, db_path: Path | str = ":memory:", **kwargs: Any) -> None:
        super().__init__(pki=pki, **kwargs)
        self.store = DPStore(db_path)
        if not self.store.pending("-"):
            self.store.add_alerts(SEED_ALERTS)
        self.app = DPApp(self.store)

    def build_app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def endpoint(request: Request) -> JSONResponse:
            body = await request.body()
            status, out = await run_in_threadpool(self.app.handle, request.url.path, body)
            return JSONResponse(out, status_code=status)

        paths = ("/history", "/dossiers", "/dispensations", "/alerts", "/alerts/acknowledge")
        return Starlette(routes=[Route(p, endpoint, methods=["POST"]) for p in paths])
