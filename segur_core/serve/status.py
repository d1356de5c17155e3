"""The operator's status page: one HTML page rendered by the service, ``GET /v1/status``.

What an operator checks first when the pharmacy calls: which plugins run (and which
failed), what the outbox holds, the dead letters, whether the audit journal verifies,
and the last calls to the national services. Rendered on the server, every value escaped,
no script, no external asset (styles inline, a Content-Security-Policy that allows
nothing else), and no patient data; the journal's check runs beside the page, again at
most every :data:`VERIFY_EVERY` seconds: deliveries say whether they concern a patient, the
journal's calls show the service, the action and the outcome only.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

import attrs

from segur_core._version import __version__
from segur_core.serve.routes import ApiCall, ApiRoute, Raw

__all__ = ["CSP", "VERIFY_EVERY", "VERIFY_WAIT", "render", "status_page", "status_route"]

#: The page's Content-Security-Policy: its inline styles, nothing else.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none';"
    " frame-ancestors 'none'"
)

#: How many dead letters and national-service calls the page lists.
SHOWN = 20
#: How many of the last journal records are searched for national-service calls.
SCANNED = 2000

#: Seconds during which the page shows the journal's last check rather than verifying
#: the chain again.
VERIFY_EVERY = 30.0
#: Seconds the page waits for a check under way before it shows the last result.
VERIFY_WAIT = 2.0
_VERIFIED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_VERIFY_LOCK = threading.Lock()

#: Journal services that are not national ones (the service's own calls).
_NOT_NATIONAL = frozenset({"api"})

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fff}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}
table{border-collapse:collapse;margin:.3em 0}caption{text-align:left;font-weight:600}
th,td{border:1px solid #c8c8c8;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f0f0f0}.ok{color:#0a6b2d;font-weight:600}.bad{color:#b00020;font-weight:600}
.muted{color:#666}code{font-size:.95em}
"""


def _cell(value: Any) -> str:
    if value is None or value == "":
        return '<td class="muted">—</td>'
    return f"<td>{escape(str(value))}</td>"


def _table(
    table_id: str, caption: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    if not body:
        body = f'<tr><td colspan="{len(header)}" class="muted">none</td></tr>'
    return (
        f'<table id="{table_id}"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _verdict(ok: bool, good: str, bad: str) -> str:
    return (
        f'<span class="ok">{escape(good)}</span>'
        if ok
        else f'<span class="bad">{escape(bad)}</span>'
    )


def _plugins(runtime: Any) -> str:
    rows = [
        (r.name, str(r.status), r.version, r.stats.failures, r.error)
        for r in runtime.plugins.values()
    ]
    failing = sum(1 for r in runtime.plugins.values() if r.error or r.stats.failures)
    return (
        '<section id="plugins"><h2>Plugins</h2>'
        + _verdict(not failing, "no failure", f"{failing} plugin(s) failing or in error")
        + _table(
            "plugins-table",
            f"{len(rows)} plugin(s)",
            ("plugin", "status", "version", "failures", "error"),
            rows,
        )
        + "</section>"
    )


def _outbox(runtime: Any) -> str:
    outbox = runtime.outbox
    counts = {str(state): count for state, count in outbox.counts().items()}
    dead = outbox.list("dead", limit=SHOWN)
    total_dead = counts.get("dead", 0)
    rows = [
        (
            d.id,
            d.kind,
            d.attempts,
            d.last_error,
            d.created_at.isoformat(timespec="seconds") if d.created_at else None,
            "yes" if d.patient_id is not None else "no",
        )
        for d in dead
    ]
    return (
        '<section id="outbox"><h2>Outbox</h2>'
        + _table(
            "outbox-counts",
            "deliveries per state",
            ("state", "count"),
            sorted(counts.items()),
        )
        + '<h2 id="dead-letters-title">Dead letters</h2>'
        + _verdict(not total_dead, "none", f"{total_dead} dead letter(s)")
        + _table(
            "dead-letters",
            f"the first {SHOWN} (segur outbox retry ID sends one again)",
            ("id", "kind", "attempts", "last error", "queued at", "patient"),
            rows,
        )
        + "</section>"
    )


@attrs.define
class _Check:
    """The journal's last check for one runtime, and the one under way."""

    started: float = 0.0  # time.monotonic() of the last check started
    report: Any = None
    elapsed_ms: float = 0.0
    at: dt.datetime | None = None
    error: str | None = None
    running: threading.Thread | None = None


def _verify(runtime: Any, check: _Check) -> None:
    started = time.monotonic()
    try:
        report, error = runtime.journal.verify(), None
    except Exception as exc:  # a closed or unreadable journal: said on the page
        report, error = None, f"{type(exc).__name__}: {exc}"
    with _VERIFY_LOCK:
        check.report, check.error = report, error
        check.elapsed_ms = (time.monotonic() - started) * 1000
        check.at = dt.datetime.now(dt.UTC)
        check.running = None


def _verified(runtime: Any) -> _Check:
    """The journal's check. Verifying walks the whole chain (seconds on a large journal),
    so it runs in a thread of its own, one at a time, again once :data:`VERIFY_EVERY`
    seconds have passed; the page waits for it :data:`VERIFY_WAIT` seconds at most and
    otherwise shows the last result (or that the check is under way)."""
    with _VERIFY_LOCK:
        check = _VERIFIED.setdefault(runtime, _Check())
        stale = check.at is None or time.monotonic() - check.started >= VERIFY_EVERY
        if stale and check.running is None:
            check.started = time.monotonic()
            check.running = threading.Thread(
                target=_verify, args=(runtime, check), name="segur-status-verify", daemon=True
            )
            check.running.start()
        running = check.running
    if running is not None:
        running.join(VERIFY_WAIT)
    with _VERIFY_LOCK:
        return attrs.evolve(check)


def _journal(runtime: Any) -> str:
    check = _verified(runtime)
    report = check.report
    if report is None:
        verdict = (
            _verdict(False, "", f"cannot be checked: {check.error}")
            if check.error
            else '<span class="muted">check under way: reload the page in a moment</span>'
        )
        return f'<section id="journal"><h2>Audit journal</h2>{verdict}</section>'
    problems = [(p.seq, str(p.kind), p.message) for p in report.problems[:SHOWN]]
    at = check.at.isoformat(timespec="seconds") if check.at else ""
    summary = (
        f"{report.checked} record(s) checked in {check.elapsed_ms:.0f} ms at {at};"
        f" head {report.count}:{(report.head or '')[:16]}"
        + ("; a new check is under way" if check.running is not None else "")
    )
    return (
        '<section id="journal"><h2>Audit journal</h2>'
        + _verdict(report.ok, "chain verified", f"{len(report.problems)} problem(s)")
        + f' <span id="journal-summary" class="muted">{escape(summary)}</span>'
        + (
            _table("journal-problems", "problems", ("record", "kind", "what"), problems)
            if problems
            else ""
        )
        + "</section>"
    )


def _national_calls(runtime: Any) -> str:
    records = runtime.journal.records(limit=SCANNED)
    calls = [r for r in records if r.service and r.service not in _NOT_NATIONAL][-SHOWN:]
    rows = [
        (
            r.at.isoformat(timespec="seconds") if r.at else None,
            r.service,
            r.action,
            r.outcome,
        )
        for r in reversed(calls)
    ]
    return (
        '<section id="national-calls"><h2>Last national-service calls</h2>'
        + _table(
            "national-calls-table",
            f"the last {SHOWN}, newest first",
            ("at", "service", "action", "outcome"),
            rows,
        )
        + "</section>"
    )


def render(runtime: Any, *, now: dt.datetime | None = None) -> str:
    """The page for ``runtime`` (a string of HTML)."""
    moment = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    sections = "".join(part(runtime) for part in (_plugins, _outbox, _journal, _national_calls))
    return (
        "<!DOCTYPE html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>segur — status</title>"
        f"<style>{_STYLE}</style></head><body>"
        f'<h1>segur status</h1><p class="muted">segur {escape(__version__)}, mode'
        f" {escape(runtime.config.mode)}, at {escape(moment)} (UTC)</p>"
        f"{sections}</body></html>"
    )


def status_page(call: ApiCall) -> Raw:
    """The operator's status page (HTML): plugins, outbox, dead letters, journal check,
    last national-service calls."""
    return Raw(
        render(call.runtime).encode("utf-8"),
        "text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


def status_route() -> ApiRoute:
    """``GET /v1/status``, authenticated like every call."""
    return ApiRoute(
        "GET",
        "/status",
        status_page,
        "status",
        "The operator's status page (HTML).",
        tag="core",
        answer_media_type="text/html",
    )
