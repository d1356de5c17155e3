"""How the values a command also prints in ``--json`` (states, statuses, results, check
names: kept as they are there, for scripts) are shown to a person, in the run's language."""

from __future__ import annotations

from segur_core.i18n import _l

__all__ = ["shown"]

_SHOWN = {
    # doctor results and check names
    "ok": _l("ok"),
    "warning": _l("warning"),
    "error": _l("error"),
    "skipped": _l("skipped"),
    "config": _l("config"),
    "production": _l("production"),
    "runtime": _l("runtime"),
    "host": _l("host"),
    "plugin": _l("plugin"),
    "failures": _l("failures"),
    "data directory": _l("data directory"),
    "journal": _l("journal"),
    "outbox": _l("outbox"),
    "certificates": _l("certificates"),
    "endpoint": _l("endpoint"),
    "plugin checks": _l("plugin checks"),
    # plugin statuses
    "loaded": _l("loaded"),
    "disabled": _l("disabled"),
    "incompatible": _l("incompatible"),
    "missing": _l("missing"),
    # outbox states
    "pending": _l("pending"),
    "in-flight": _l("in-flight"),
    "delivered": _l("delivered"),
    "dead": _l("dead"),
}


def shown(value: object) -> str:
    """``value`` as shown on screen (itself when it has no label)."""
    return str(_SHOWN.get(str(value), value))
