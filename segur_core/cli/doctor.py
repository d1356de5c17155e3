"""``segur doctor``: is this installation ready? Config, plugins, data directory,
journal, certificate expiry, the endpoints the plugins are configured with (a TCP
connection to each), and the checks plugins contribute."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from segur_core.cli import CORE_HELP, output
from segur_core.cli._state import CliState
from segur_core.cli._words import shown
from segur_core.i18n import _, ngettext
from segur_core.plugin import DoctorResult
from segur_core.secrets import redact_text

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["command", "run_checks"]

_CERT_WORDS = ("cert", "ca_bundle", "pkcs12", "p12", "truststore")


def _password_for(field: str, passwords: dict[str, str]) -> str | None:
    """The password of a PKCS#12 field: ``cps_password`` for ``cps_pkcs12``, else the
    first ``*password*`` secret of the table."""
    prefix = field.split("_")[0]
    for key, secret in passwords.items():
        if key.startswith(prefix) and "password" in key:
            return secret
    return next((s for k, s in passwords.items() if "password" in k), None)


def _certificate_sources(runtime: Runtime) -> list[Any]:
    """Certificate files named in plugin configs (fields like ``client_cert``,
    ``ca_bundle``, ``pkcs12`` with a ``*password*`` secret), and the test PKI if any."""
    sources: list[Any] = []
    for record in runtime.loaded_plugins():
        config = runtime.plugin_config(record.name)
        if config is None or not attrs.has(type(config)):
            continue
        # the table and its sub-tables ([ins.tls]...)
        tables = [config, *(v for v in attrs.asdict(config, recurse=False).values()
                            if attrs.has(type(v)))]  # fmt: skip
        for table in tables:
            sources += _table_certificates(table)
    pki = runtime.data_dir / "pki"
    if pki.is_dir():
        # the test PKI's deliberately broken certificates live in negative/
        sources.extend(
            sorted(
                p
                for p in pki.rglob("*.pem")
                if "key" not in p.name and "negative" not in p.relative_to(pki).parts
            )
        )
    return sources


def _table_certificates(table: Any) -> list[Any]:
    from segur_core.secrets import Secret

    values = {f.name: getattr(table, f.name) for f in attrs.fields(type(table))}
    passwords = {k: v.reveal() for k, v in values.items() if isinstance(v, Secret)}
    sources: list[Any] = []
    for name, value in values.items():
        if not isinstance(value, str | Path) or not any(w in name for w in _CERT_WORDS):
            continue
        path = Path(value)
        if not path.is_file():
            continue
        if path.suffix.lower() in {".p12", ".pfx"} or "pkcs12" in name or "p12" in name:
            sources.append((path, _password_for(name, passwords)))
        else:
            sources.append(path)
    return sources


#: Seconds to wait for a TCP connection to a configured endpoint.
_CONNECT_TIMEOUT = 3.0


def _endpoints(runtime: Runtime) -> list[tuple[str, str, str]]:
    """``(plugin, key, url)`` for every ``endpoint``/``*_endpoint``/``*_url`` setting of
    a plugin config that holds an http(s) URL (``"sandbox"`` is the plugin's own check)."""
    found: list[tuple[str, str, str]] = []
    for record in runtime.loaded_plugins():
        config = runtime.plugin_config(record.name)
        if config is None or not attrs.has(type(config)):
            continue
        for field in attrs.fields(type(config)):
            name = field.name
            if name != "endpoint" and not name.endswith(("_endpoint", "_url")):
                continue
            value = getattr(config, name)
            if isinstance(value, str) and value.startswith(("https://", "http://")):
                found.append((record.name, f"{record.name}.{name}", value))
    return found


def _reachable(url: str) -> tuple[bool, str]:
    """Open (and close) a TCP connection to the host and port of ``url``."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False, _("{host} has no valid port").format(host=parts.hostname)
    where = f"{parts.hostname}:{port}"
    try:
        with socket.create_connection((parts.hostname, port), timeout=_CONNECT_TIMEOUT):
            return True, _("{where} reachable").format(where=where)
    except OSError as exc:
        return False, _("{where} unreachable ({error})").format(
            where=where, error=type(exc).__name__
        )


def _check_outbox(runtime: Runtime, add: Any) -> None:
    """Dead letters are a warning: nothing more is attempted until someone retries them."""
    if not (runtime.data_dir / "outbox.sqlite").exists():
        add("outbox", DoctorResult.SKIPPED, _("nothing queued yet"))
        return
    try:
        counts = {str(state): n for state, n in runtime.outbox.counts().items()}
    except Exception as exc:
        add("outbox", DoctorResult.ERROR, str(exc))
        return
    summary = ", ".join(f"{n} {shown(state)}" for state, n in counts.items())
    if counts.get("dead"):
        add(
            "outbox",
            DoctorResult.WARNING,
            _(
                "{dead} dead deliveries, not sent ({summary}): see"
                " 'segur outbox list --state dead', resend with 'segur outbox retry ID'"
            ).format(dead=counts["dead"], summary=summary),
        )
    else:
        add("outbox", DoctorResult.OK, summary)


def _check_host(runtime: Any, state: CliState, add: Any) -> None:
    """Which host the commands work on, and what the plugins need from it and lack."""
    from segur_core.host import host_setting

    reference, key = host_setting(runtime.config.settings.host, state.host)
    try:
        problems = runtime.host_problems()
    except Exception as exc:
        add("host", DoctorResult.ERROR, f"{reference}: {type(exc).__name__}: {exc}")
        return
    for plugin, problem in problems:
        add("host", DoctorResult.ERROR, problem, plugin)
    if not problems:
        where = key or _("the default host")
        add("host", DoctorResult.OK, f"{reference} ({where})")


def _scratch_dir() -> Path:
    """A private folder removed when the command ends (after the runtime closes)."""
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="segur-doctor-"))

    def remove() -> None:
        shutil.rmtree(folder, ignore_errors=True)

    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # registered before the runtime's close: runs after it
        ctx.find_root().call_on_close(remove)
    else:
        atexit.register(remove)
    return folder


def _check_data_dir(data_dir: Path, fresh: bool, add: Any) -> None:
    """Writable, or (before the first run) creatable: its nearest existing parent is."""
    if fresh:
        parent = next((p for p in data_dir.parents if p.exists()), data_dir.anchor)
        ok = os.access(parent, os.W_OK)
        message = (
            _("{path} does not exist yet: created at first use")
            if ok
            else _("{path} does not exist and cannot be created ({parent} not writable)")
        )
        add(
            "data directory",
            DoctorResult.OK if ok else DoctorResult.ERROR,
            message.format(path=data_dir, parent=parent),
        )
        return
    writable = os.access(data_dir, os.W_OK)
    add(
        "data directory",
        DoctorResult.OK if writable else DoctorResult.ERROR,
        (_("{path} writable") if writable else _("{path} not writable")).format(path=data_dir),
    )


def _check_journal(runtime: Runtime, add: Any) -> None:
    try:
        report = runtime.journal.verify()
        ok = getattr(report, "ok", report)
        add(
            "journal",
            DoctorResult.OK if ok else DoctorResult.ERROR,
            _("hash chain intact, checkpoints match")
            if ok
            else _("tampering detected: {problem}").format(problem=report.problems[0].message)
            + (
                _(" (and {n} more)").format(n=len(report.problems) - 1)
                if len(report.problems) > 1
                else ""
            )
            + _("; run `segur audit verify`"),
        )
    except Exception as exc:
        add("journal", DoctorResult.ERROR, f"{type(exc).__name__}: {exc}")


def _check_certificates(runtime: Runtime, add: Any) -> None:
    try:
        from segur_core.tls import certificate_warnings
    except ImportError:
        add("certificates", DoctorResult.SKIPPED, _("segur_core.tls not available"))
        return
    sources = _certificate_sources(runtime)
    warnings = certificate_warnings(sources)
    if not sources:
        add("certificates", DoctorResult.SKIPPED, _("no certificate configured"))
    elif not warnings:
        add(
            "certificates",
            DoctorResult.OK,
            ngettext(
                "{n} certificate file valid", "{n} certificate files valid", len(sources)
            ).format(n=len(sources)),
        )
    for warning in warnings:
        serious = warning.kind in {"expired", "unreadable", "not-yet-valid"}
        add(
            "certificates",
            DoctorResult.ERROR if serious else DoctorResult.WARNING,
            str(warning),
        )


def run_checks(state: CliState) -> list[dict[str, str]]:
    """Run every check; each result is ``{"check", "plugin", "result", "message"}``."""
    results: list[dict[str, str]] = []

    def add(check: str, result: DoctorResult, message: str, plugin: str = "segur") -> None:
        message = redact_text(message)  # a configured URL may carry user:password@
        results.append(
            {"check": check, "plugin": plugin, "result": result.value, "message": message}
        )

    try:
        config = state.config()
    except Exception as exc:
        add("config", DoctorResult.ERROR, str(exc))
        return results
    add(
        "config",
        DoctorResult.OK,
        _("{file}, mode {mode}").format(
            file=config.path or _("defaults (no segur.toml)"), mode=config.mode
        ),
    )
    data_dir = state.data_dir()
    fresh = not data_dir.exists()
    try:
        # doctor creates no file: before the first run, the runtime's databases go to a
        # scratch folder removed at exit
        runtime = state.runtime(data_dir=_scratch_dir()) if fresh else state.runtime()
    except Exception as exc:
        for problem in getattr(exc, "problems", None) or ():  # ProductionError: each one
            add("production", DoctorResult.ERROR, str(problem), problem.key.split(".")[0])
        if not getattr(exc, "problems", None):
            add("runtime", DoctorResult.ERROR, str(exc))
        return results
    _check_host(runtime, state, add)
    for record in runtime.plugins.values():
        if record.status == "disabled":
            add("plugin", DoctorResult.SKIPPED, _("disabled"), record.name)
        elif record.error:
            add("plugin", DoctorResult.ERROR, record.error, record.name)
        else:
            add(
                "plugin",
                DoctorResult.OK,
                ngettext("{status}, {n} hook", "{status}, {n} hooks", len(record.hooks)).format(
                    status=shown(record.status), n=len(record.hooks)
                ),
                record.name,
            )
    for name, health in runtime.plugin_health().items():
        if health["failures"]:
            add(
                "failures",
                DoctorResult.WARNING,
                _("{n} contained failures, last: {error}").format(
                    n=health["failures"], error=health["last_error"]
                ),
                name,
            )
    _check_data_dir(data_dir, fresh, add)
    if fresh:
        add("journal", DoctorResult.SKIPPED, _("no journal yet"))
    else:
        _check_journal(runtime, add)
    _check_outbox(runtime, add)
    _check_certificates(runtime, add)
    for plugin, key, url in _endpoints(runtime):
        ok, message = _reachable(url)
        add("endpoint", DoctorResult.OK if ok else DoctorResult.ERROR, f"{key}: {message}", plugin)
    try:
        checks = runtime.doctor_checks()
    except Exception as exc:
        add("plugin checks", DoctorResult.ERROR, f"{type(exc).__name__}: {exc}")
        checks = []
    for plugin, check in checks:
        try:
            result, message = check.run()
            add(check.name, DoctorResult(result), message, plugin)
        except Exception as exc:
            add(
                check.name,
                DoctorResult.ERROR,
                _("check crashed: {error}").format(error=type(exc).__name__),
                plugin,
            )
    return results


def _plugin_catalogs(state: CliState) -> dict[str, Any]:
    """Plugin name -> the catalog its check names (marked with ``N_``) are shown with."""
    from segur_core.i18n import module_catalog

    try:
        _pm, records = state.plugin_manager()
    except Exception:
        return {}
    return {
        name: module_catalog(record.entry_point)
        for name, record in records.items()
        if record.entry_point
    }


_STYLE = {"ok": "green", "warning": "yellow", "error": "red", "skipped": "dim"}


@click.command("doctor", help=CORE_HELP["doctor"])
@output.json_option
@click.pass_obj
def command(state: CliState, as_json: bool) -> None:
    results = run_checks(state)
    failed = any(r["result"] == "error" for r in results)
    if as_json:
        output.emit_json({"ok": not failed, "checks": results})
    else:
        grid = output.table(
            "segur doctor",
            {_("check"): "text", _("plugin"): "key", _("result"): "key", _("message"): "text"},
        )
        catalogs = _plugin_catalogs(state)
        for r in results:
            style = _STYLE.get(r["result"])
            catalog = catalogs.get(r["plugin"])
            grid.add_row(
                catalog.gettext(r["check"]) if catalog is not None else shown(r["check"]),
                r["plugin"],
                f"[{style}]{shown(r['result'])}[/{style}]",
                r["message"],
            )
        output.console().print(grid)
    if failed:
        raise SystemExit(1)
