"""``segur plugins``: every installed plugin, whether it is enabled and loaded, why
not, the hooks it implements, and the failures the runtime contained."""

from __future__ import annotations

from typing import Any

import click

from segur_core.cli import CORE_HELP
from segur_core.cli._state import CliState
from segur_core.cli._words import shown
from segur_core.cli.output import console, emit_json, json_option, table
from segur_core.i18n import _, _l

__all__ = ["command", "plugin_rows"]


def plugin_rows(state: CliState) -> list[dict[str, Any]]:
    """One JSON-ready row per plugin, with counters persisted by earlier runtimes."""
    from segur_core._isolation import HealthStore

    _pm, records = state.plugin_manager()
    health = HealthStore(state.data_dir() / "runtime.sqlite").read()
    rows = []
    for record in records.values():
        row = record.as_dict()
        persisted = health.get(record.name)
        if persisted is not None:
            for key in ("calls", "failures"):
                row[key] = max(row[key], persisted[key])
            for key in ("last_error", "last_hook", "last_failure_at"):
                row[key] = row[key] or persisted[key]
        rows.append(row)
    return rows


def _short(hook: str) -> str:
    return hook.removeprefix("segur_").removeprefix("on_")


@click.command("plugins", help=CORE_HELP["plugins"])
@json_option
@click.option("--strict", is_flag=True, help=_l("Fail when a plugin cannot be loaded."))
@click.option(
    "--reset-counters",
    is_flag=True,
    help=_l("Forget the recorded calls and contained failures."),
)
@click.pass_obj
def command(state: CliState, as_json: bool, strict: bool, reset_counters: bool) -> None:
    if strict:
        state.strict = True
    if reset_counters:
        from segur_core._isolation import HealthStore

        HealthStore(state.data_dir() / "runtime.sqlite").reset()
    rows = plugin_rows(state)
    if as_json:
        emit_json({"plugins": rows})
        return
    grid = table(
        "segur plugins",
        {_("name"): "text", _("version"): "key", _("distribution"): "text", _("enabled"): "key",
         _("status"): "text", _("failures"): "key", _("hooks"): "key"},
    )  # fmt: skip
    for row in rows:
        status = row["status"]
        style = "red" if row["error"] or row["failures"] else None
        grid.add_row(
            row["name"],
            row["version"] or "",
            row["distribution"] or "",
            _("yes") if row["enabled"] else _("no"),
            shown(status),
            f"{row['failures']}/{row['calls']}" if row["calls"] else "",
            str(len(row["hooks"])) if row["hooks"] else "",
            style=style,
        )
    screen = console()
    screen.print(grid)
    for row in rows:
        if row["hooks"]:
            hooks = ", ".join(_short(h) for h in row["hooks"])
            screen.print(
                f"[bold]{row['name']}[/bold] " + _("hooks: {hooks}").format(hooks=hooks),
                highlight=False,
            )
    for row in rows:
        if row["error"]:
            screen.print(f"[red]{row['name']}[/red]: {row['error']}", highlight=False)
        if row["failures"]:
            screen.print(
                f"[yellow]{row['name']}[/yellow]: "
                + _(
                    "{failures} contained failures in {calls} calls, last in {hook}: {error}"
                ).format(
                    failures=row["failures"],
                    calls=row["calls"],
                    hook=row["last_hook"],
                    error=row["last_error"],
                ),
                highlight=False,
            )
