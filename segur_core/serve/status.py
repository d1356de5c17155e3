"""The operator's status page: one HTML page rendered by the service, ``GET /v1/status``.

What an operator checks first when the pharmacy calls: which plugins run (and which
failed), what the outbox holds, the dead letters, whether the audit journal verifies,
and the last calls to the national services. Rendered on the server, every value escaped,
no script, no external asset (styles inline, a Content-Security-Policy that allows
nothing else), and no patient data; the journal's check runs beside the page, again at
most every :data:`VERIFY_EVERY` seconds: deliveries say whether they concern a patient, the
journal's calls show the service, the action and the outcome only. The page speaks the
service's language (:mod:`segur_core.i18n`); codes, states and identifiers stay as stored.
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
from segur_core.i18n import _, language, ngettext
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
        none = escape(_("none"))
        body = f'<tr><td colspan="{len(header)}" class="muted">{none}</td></tr>'
    return (
        f'<table id="{table_id}"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _heading(text: str, heading_id: str | None = None) -> str:
    attribute = f' id="{heading_id}"' if heading_id else ""
    return f"<h2{attribute}>{escape(text)}</h2>"


def _opening(section_id: str, title: str) -> str:
    """The start of a page section: its ``id`` (tests and operators' links) and title."""
    return f'<section id="{section_id}">' + _heading(title)


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
        _opening("plugins", _("Plugins"))
        + _verdict(
            not failing,
            _("no failure"),
            ngettext(
                "{n} plugin failing or in error", "{n} plugins failing or in error", failing
            ).format(n=failing),
        )
        + _table(
            "plugins-table",
            ngettext("{n} plugin", "{n} plugins", len(rows)).format(n=len(rows)),
            (_("plugin"), _("status"), _("version"), _("failures"), _("error")),
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
            _("yes") if d.patient_id is not None else _("no"),
        )
        for d in dead
    ]
    return (
        _opening("outbox", _("Outbox"))
        + _table(
            "outbox-counts",
            _("deliveries per state"),
            (_("state"), _("count")),
            sorted(counts.items()),
        )
        + _heading(_("Dead letters"), "dead-letters-title")
        + _verdict(
            not total_dead,
            _("none"),
            ngettext("{n} dead letter", "{n} dead letters", total_dead).format(n=total_dead),
        )
        + _table(
            "dead-letters",
            _("the first {n} (segur outbox retry ID sends one again)").format(n=SHOWN),
            (_("id"), _("kind"), _("attempts"), _("last error"), _("queued at"), _("patient")),
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
            _verdict(False, "", _("cannot be checked: {error}").format(error=check.error))
            if check.error
            else '<span class="muted">'
            + escape(_("check under way: reload the page in a moment"))
            + "</span>"
        )
        return _opening("journal", _("Audit journal")) + verdict + "</section>"
    problems = [(p.seq, str(p.kind), p.message) for p in report.problems[:SHOWN]]
    at = check.at.isoformat(timespec="seconds") if check.at else ""
    summary = ngettext(
        "{n} record checked in {ms} ms at {at}; head {count}:{head}",
        "{n} records checked in {ms} ms at {at}; head {count}:{head}",
        report.checked,
    ).format(
        n=report.checked,
        ms=f"{check.elapsed_ms:.0f}",
        at=at,
        count=report.count,
        head=(report.head or "")[:16],
    ) + (_("; a new check is under way") if check.running is not None else "")
    problems_count = len(report.problems)
    return (
        _opening("journal", _("Audit journal"))
        + _verdict(
            report.ok,
            _("chain verified"),
            ngettext("{n} problem", "{n} problems", problems_count).format(n=problems_count),
        )
        + f' <span id="journal-summary" class="muted">{escape(summary)}</span>'
        + (
            _table(
                "journal-problems",
                _("problems"),
                (_("record"), _("kind"), _("what")),
                problems,
            )
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
        _opening("national-calls", _("Last national-service calls"))
        + _table(
            "national-calls-table",
            _("the last {n}, newest first").format(n=SHOWN),
            (_("at"), _("service"), _("action"), _("outcome")),
            rows,
        )
        + "</section>"
    )


def render(runtime: Any, *, now: dt.datetime | None = None) -> str:
    """The page for ``runtime`` (a string of HTML)."""
    moment = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    sections = "".join(part(runtime) for part in (_plugins, _outbox, _journal, _national_calls))
    title = _("segur status")
    subtitle = _("segur {version}, mode {mode}, at {moment} (UTC)").format(
        version=__version__, mode=runtime.config.mode, moment=moment
    )
    return (
        "<!DOCTYPE html>"
        f'<html lang="{language()}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="muted">{escape(subtitle)}</p>'
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
