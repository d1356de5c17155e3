"""Names in ``segur.toml`` that should be plugins or their keys: a table or a
``plugins = [...]`` entry that is a typo of an installed plugin is a :class:`ConfigError`
at start, with "did you mean"; a table for a plugin that is not installed at all is only
reported (a pharmacy may keep the configuration of a plugin it uninstalled).

An unknown key in a plugin's table is an error too, with "did you mean", even while the
plugin is disabled: a plugin declares its config class in the ``segur.config``
entry-point group (``ins = "segur_ins.config:InsConfig"``), which is imported alone (not
the plugin) to know its keys. A disabled plugin that declares none is not checked."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from segur_core.config import Config
from segur_core.errors import ConfigError
from segur_core.i18n import _

__all__ = [
    "CONFIG_GROUP",
    "HOST_TABLE",
    "check_disabled_tables",
    "check_plugin_names",
    "check_table_keys",
]

#: Entry-point group where a plugin distribution names its config class.
CONFIG_GROUP = "segur.config"

#: The table of the configured host's own settings (``[host]``, read by a host factory
#: that takes the configuration, such as ``hostspecs.http:http_host``), not a plugin's.
HOST_TABLE = "host"


def _close(name: str, installed: list[str]) -> str | None:
    matches = difflib.get_close_matches(name, installed, n=1, cutoff=0.6)
    return matches[0] if matches else None


def check_plugin_names(config: Config, installed: Iterable[str]) -> list[str]:
    """Check the plugin names ``config`` uses against the ``installed`` plugins (enabled
    or not); return the tables that belong to no installed plugin and resemble none."""
    known = sorted(set(installed))
    for name in config.settings.plugins or ():
        if name not in known and (match := _close(name, known)) is not None:
            raise ConfigError(
                _("unknown plugin {name!r}, did you mean {match!r}?").format(
                    name=name, match=match
                ),
                key="segur.plugins",
                hint=_("installed plugins: {names}").format(names=known),
            )
    orphans = []
    for name in config.tables:
        if name in known or name == HOST_TABLE:
            continue
        if (match := _close(name, known)) is not None:
            raise ConfigError(
                _("unknown table [{name}], did you mean [{match}]?").format(name=name, match=match),
                key=name,
                hint=_("installed plugins: {names}").format(names=known),
            )
        orphans.append(name)
    return orphans


def _table_class(tp: Any) -> type | None:
    """The attrs class of a field type (``ClientTls``, ``ClientTls | None``), if any."""
    if isinstance(tp, type) and attrs.has(tp):
        return tp
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return next((a for a in typing.get_args(tp) if isinstance(a, type) and attrs.has(a)), None)
    return None


def _unknown_key(table: Mapping[str, Any], cls: type, path: str) -> tuple[str, list[str]] | None:
    """``(dotted key, the keys it could have been)`` of the first key of ``table`` that
    ``cls`` has no field for (its sub-tables checked the same way), or ``None``."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation that does not resolve: the declared types
        hints = {}
    fields = {f.name: hints.get(f.name, f.type) for f in attrs.fields(cls)}
    moved = getattr(cls, "moved_keys", {})
    for key, value in table.items():
        if key in moved:  # structure_table explains where it lives now
            continue
        if key not in fields:
            return f"{path}.{key}", sorted(fields)
        sub = _table_class(fields[key])
        if sub is not None and isinstance(value, Mapping):
            found = _unknown_key(value, sub, f"{path}.{key}")
            if found is not None:
                return found
    return None


def check_table_keys(table: Mapping[str, Any], cls: type, name: str) -> None:
    """:class:`ConfigError` for the first key of the ``[name]`` table that ``cls`` does
    not know, with the closest known key."""
    found = _unknown_key(table, cls, name)
    if found is None:
        return
    key, known = found
    leaf = key.rpartition(".")[2]
    match = _close(leaf, known)
    raise ConfigError(
        _("unknown key, did you mean {match!r}?").format(match=match)
        if match
        else _("unknown key"),
        key=key,
        hint=_("keys of [{table}]: {keys}").format(
            table=key.rpartition(".")[0], keys=", ".join(known)
        ),
    )


def check_disabled_tables(config: Config, records: Mapping[str, Any]) -> None:
    """Check the keys of the tables of the installed plugins ``records`` (name ->
    :class:`~segur_core._loader.PluginRecord`) says are disabled, with the config classes
    their distributions declare in :data:`CONFIG_GROUP`."""
    wanted = {
        name: record.distribution
        for name, record in records.items()
        if not record.enabled and record.entry_point is not None and name in config.tables
    }
    if not wanted:
        return
    from importlib.metadata import entry_points

    declared: dict[str, Any] = {}
    for ep in entry_points(group=CONFIG_GROUP):
        if ep.name in wanted and (
            ep.name not in declared or (ep.dist is not None and ep.dist.name == wanted[ep.name])
        ):
            declared[ep.name] = ep
    for name, ep in sorted(declared.items()):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken config module: the plugin would not load either
            raise ConfigError(
                _("cannot read the keys of [{name}]: {error}").format(
                    name=name, error=f"{type(exc).__name__}: {exc}"
                ),
                key=name,
            ) from None
        if isinstance(cls, type) and attrs.has(cls):
            check_table_keys(config.table(name), cls, name)
