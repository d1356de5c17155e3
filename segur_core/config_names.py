"""Names in ``segur.toml`` that should be plugins: a table or a ``plugins = [...]`` entry
that is a typo of an installed plugin is a :class:`ConfigError` at start, with "did you
mean"; a table for a plugin that is not installed at all is only reported (a pharmacy may
keep the configuration of a plugin it uninstalled)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from segur_core.config import Config
from segur_core.errors import ConfigError

__all__ = ["HOST_TABLE", "check_plugin_names"]

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
                f"unknown plugin {name!r}, did you mean {match!r}?",
                key="segur.plugins",
                hint=f"installed plugins: {known}",
            )
    orphans = []
    for name in config.tables:
        if name in known or name == HOST_TABLE:
            continue
        if (match := _close(name, known)) is not None:
            raise ConfigError(
                f"unknown table [{name}], did you mean [{match}]?",
                key=name,
                hint=f"installed plugins: {known}",
            )
        orphans.append(name)
    return orphans
