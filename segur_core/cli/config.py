"""``segur config show``: the effective configuration, secrets shown as ``***``."""

from __future__ import annotations

import json
from typing import Any

import click

from segur_core.cli import CORE_HELP
from segur_core.cli._state import CliState
from segur_core.cli.output import emit_json, json_option
from segur_core.i18n import _l

__all__ = ["command", "effective_config"]


def effective_config(state: CliState) -> dict[str, Any]:
    """The ``[segur]`` settings and each plugin's structured config (defaults filled in),
    redacted; tables of plugins that are not loaded are shown as written, redacted."""
    from segur_core.config import redacted, structure_table
    from segur_core.config_names import (
        check_disabled_tables,
        check_plugin_names,
        check_table_keys,
    )
    from segur_core.host import host_setting

    config = state.config()
    _pm, records = state.plugin_manager()
    check_plugin_names(config, [n for n, r in records.items() if r.entry_point is not None])
    check_disabled_tables(config, records)
    settings = config.settings
    result: dict[str, Any] = {
        "segur": {
            "config_file": str(config.path) if config.path else None,
            "plugins": list(settings.plugins) if settings.plugins is not None else None,
            "data_dir": str(state.data_dir()),
            "mode": settings.mode,
            "strict": settings.strict,
            "outbox": _outbox_table(settings.outbox),
            "host": host_setting(settings.host, state.host)[0],
        }
    }
    for record in records.values():
        if not record.loaded or record.info is None:
            continue
        cls = record.info.config_class  # imports a "module:Class" reference now
        if cls is not None:
            check_table_keys(config.table(record.name), cls, record.name)
            result[record.name] = redacted(structure_table(config, record.name, cls))
    for name, table in config.tables.items():
        if name not in result:
            result[name] = redacted(dict(table))
    return result


def _outbox_table(settings: Any) -> dict[str, Any]:
    """The effective ``[segur.outbox]`` table, defaults filled in."""
    from segur_core.outbox.policy import OutboxSettings

    return (settings if settings is not None else OutboxSettings()).as_table()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """A readable TOML rendering of nested plain data (for display only)."""
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if prefix and (scalars or not tables):
        lines.append(f"[{prefix}]")
    for key, value in scalars.items():
        if value is None:
            lines.append(f"# {key} is not set")
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    if scalars and prefix:
        lines.append("")
    for key, value in tables.items():
        lines.append(to_toml(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(lines)


@click.group("config", help=CORE_HELP["config"])
def command() -> None:
    pass


@command.command("show", help=_l("Print the effective configuration (secrets as ***)."))
@json_option
@click.pass_obj
def show(state: CliState, as_json: bool) -> None:
    data = effective_config(state)
    if as_json:
        emit_json(data)
    else:
        click.echo(to_toml(data).rstrip() + "\n")
