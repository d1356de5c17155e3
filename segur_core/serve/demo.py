"""``segur demo --serve``: the counter scenario driven over HTTP, as an LGO drives it.

The service runs in this process on a private Unix socket, over a demo runtime (its
sandboxes, the reference host); the scenario is a script of HTTP calls, each shown with
its method, path, status and what came back: a card read posted by the LGO, the INSi
answer, the pharmacist's identity-document check (QUAL), a vaccination note built and
validated, its DMP feed sent by the outbox worker inside the service, the DMP consulted
back, the journal verified. A step whose plugin is not enabled (its route is not in the
OpenAPI document) is skipped and said so.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from segur_core.config import Config
from segur_core.host import DEFAULT_HOST_FACTORY
from segur_core.serve.routes import ApiError

__all__ = ["CARD_READING", "ServeDemoResult", "run_serve_demo", "vaccination"]

#: The demo card's holder (CNDA test person ADRUN ZOE, known to the INSi sandbox), as an
#: LGO's own card reader gives it.
CARD_READING: dict[str, Any] = {
    "source": "vitale-card",
    "traits": {
        "birth_name": "ADRUN",
        "first_names": ["ZOE"],
        "sex": "F",
        "birth_date": "1975-12-31",
        "birth_place": "63220",
    },
    "nir": "275126322074974",
    "card_kind": "vitale-2",
}


def vaccination(today: dt.date) -> dict[str, Any]:
    """A tetanus booster, as an LGO sends it to ``POST /v1/documents``."""
    return {
        "vaccine": {
            "cis": "68747507",
            "label": "VACCIN TETANIQUE PASTEUR, suspension injectable en seringue préremplie",
            "atc": "J07AM",
            "atc_label": "vaccins tétaniques",
            "cip13": "3400932857241",
        },
        "lot_number": "4456672",
        "administered_on": today.isoformat(),
        "act": "BOOSTER",
        "dose_rank": 3,
        "route": "20035000",
        "site": "16217701000119102",
    }


@attrs.define
class ServeDemoResult:
    """The calls made (method, path, status, seconds, summary) and whether all passed."""

    calls: list[dict[str, Any]] = attrs.Factory(list)
    seconds_to_ready: float | None = None

    @property
    def ok(self) -> bool:
        return all(c["status"] < 400 or c.get("expected") for c in self.calls)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "seconds_to_ready": self.seconds_to_ready, "calls": self.calls}


class _Driver:
    def __init__(self, client: Any, result: ServeDemoResult, show: Callable[[dict], None]):
        self.client = client
        self.result = result
        self.show = show
        self.paths = set(client.get("/openapi.json")["paths"])

    def has(self, path: str) -> bool:
        return "/v1" + path in self.paths

    def call(
        self, method: str, path: str, body: Any = None, *, note: Callable[[Any], str],
        expect: int | None = None, **params: Any,
    ) -> Any:  # fmt: skip
        started = time.perf_counter()
        entry: dict[str, Any] = {"method": method, "path": "/v1" + path}
        try:
            answer = self.client.request(method, path, json_body=body, params=params or None)
            entry.update(status=200, summary=note(answer))
        except ApiError as exc:
            answer = exc
            entry.update(status=exc.status, summary=f"{exc.code}: {exc.message}")
            if exc.status == expect:
                entry["expected"] = True
        entry["seconds"] = round(time.perf_counter() - started, 3)
        self.result.calls.append(entry)
        self.show(entry)
        return answer


def run_serve_demo(
    config: Config | None = None,
    *,
    out_dir: str | Path | None = None,
    on_call: Callable[[dict[str, Any]], None] | None = None,
) -> ServeDemoResult:
    """Start the service over a demo runtime and drive the scenario over HTTP."""
    from segur_core.files import private_dir
    from segur_core.runtime import create_runtime
    from segur_core.serve.app import create_app
    from segur_core.serve.client import ServeClient
    from segur_core.serve.server import running
    from segur_core.serve.settings import ServeSettings

    config = (config or Config.default()).evolve(mode="demo")
    result = ServeDemoResult()
    show = on_call or (lambda entry: None)
    with tempfile.TemporaryDirectory(prefix="segur-serve-") as scratch:
        directory = private_dir(Path(out_dir) if out_dir is not None else Path(scratch))
        runtime = create_runtime(config, host=DEFAULT_HOST_FACTORY, data_dir=directory)
        try:
            settings = ServeSettings.from_config(config)
            settings = attrs.evolve(settings, socket=directory / "serve.sock")
            app = create_app(runtime, settings)
            with (
                running(app, settings) as served,
                ServeClient(served.url, actor="demo-counter") as client,
            ):
                client.wait_ready(300)
                result.seconds_to_ready = app.state.service.ready_after
                _scenario(_Driver(client, result, show))
        finally:
            runtime.close()
    return result


def _scenario(d: _Driver) -> None:
    d.call("GET", "/plugins", note=lambda a: f"{len(a['plugins'])} plugins, mode {a['mode']}")
    if not d.has("/vitale/card-reads"):
        return
    read = d.call(
        "POST", "/vitale/card-reads", CARD_READING,
        note=lambda a: "on_card_read dispatched; patients "
        + ", ".join(f"{p['id']} ({p['status']})" for p in a["patients"]),
    )  # fmt: skip
    if isinstance(read, ApiError) or not read["patients"]:
        return
    pid = read["patients"][0]["id"]
    if d.has("/ins/patients/{patient_id}/identity-check"):
        d.call(
            "POST", f"/ins/patients/{pid}/identity-check", {"document": "cni"},
            note=lambda a: f"identity document checked: status {a['status']}, INS {a['ins']}",
        )  # fmt: skip
    if not d.has("/documents"):
        return
    body = {"patient_id": pid, "kind": "vaccination", "content": vaccination(dt.date.today())}
    draft = d.call(
        "POST", "/documents", body,
        note=lambda a: f"draft {a['title']} v{a['version']} stored by the host",
    )  # fmt: skip
    if isinstance(draft, ApiError):
        return
    doc = urllib.parse.quote(draft["id"], safe="")
    d.call(
        "POST", f"/documents/{doc}/validate",
        note=lambda a: f"validated once ({', '.join(a['checks'])}); DMP feed queued",
    )  # fmt: skip
    if not d.has("/dmp/patients/{patient_id}/status"):
        return
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the outbox worker runs inside the service
        items = d.client.get("/outbox", kind="dmp.iti41")["deliveries"]
        if items and items[0]["state"] in ("delivered", "dead"):
            break
        time.sleep(0.2)
    d.call("GET", "/outbox", note=lambda a: f"deliveries: {a['counts']}", kind="dmp.iti41")
    d.call(
        "GET", f"/dmp/patients/{pid}/status",
        note=lambda a: "; ".join(f"{x['state']}" for x in a["documents"]) or "nothing sent",
    )  # fmt: skip
    d.call(
        "POST", f"/dmp/patients/{pid}/consent", {"granted": True, "note": "patient informed"},
        note=lambda a: "the patient's consent to DMP access recorded by the host",
    )  # fmt: skip
    d.call(
        "GET", f"/dmp/patients/{pid}/documents",
        note=lambda a: f"{len(a['documents'])} document(s) in the DMP (ITI-18)",
    )  # fmt: skip
    d.call("POST", "/audit/verify", note=lambda a: f"journal verified: {a['count']} records")
