"""What the ``segur`` commands share in one invocation: the config, the plugins, the
runtime, each created on first use and closed when the command ends."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    import pluggy

    from segur_core._loader import PluginRecord
    from segur_core.config import Config
    from segur_core.runtime import Runtime

__all__ = ["ACTOR_ENV", "CliState", "cli_actor", "get_runtime", "get_state", "pass_runtime"]

#: Names who runs the ``segur`` commands in the journal, instead of the OS login.
ACTOR_ENV = "SEGUR_ACTOR"


def cli_actor() -> str:
    """Who acts through the ``segur`` command line, as journal records name them:
    ``$SEGUR_ACTOR`` when set (a pharmacy's own operator name), else ``cli:<OS login>``
    (``cli:uid-<n>`` when the login has no name)."""
    import os

    named = os.environ.get(ACTOR_ENV, "").strip()
    if named:
        return " ".join(named.split())[:120]
    import getpass

    try:
        login = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no passwd entry, no login variable
        login = f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{login}"


F = TypeVar("F", bound=Callable[..., Any])


class CliState:
    """The ``ctx.obj`` of the ``segur`` command line."""

    def __init__(
        self, config_path: str | None = None, strict: bool = False, host: str | None = None
    ) -> None:
        self.config_path = config_path
        self.strict = strict
        #: ``--host``: the host factory, over ``$SEGUR_HOST`` and ``[segur] host``.
        self.host = host
        self._config: Config | None = None
        self._runtime: Runtime | None = None
        self._plugins: tuple[pluggy.PluginManager, dict[str, PluginRecord]] | None = None
        self._cli_commands: dict[str, click.Command] | None = None

    def config(self) -> Config:
        """The configuration (``--config``, ``$SEGUR_CONFIG``, ``./segur.toml``, defaults)."""
        if self._config is None:
            from segur_core.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    @property
    def effective_strict(self) -> bool:
        return self.strict or self.config().strict

    def data_dir(self) -> Path:
        return (self.config().data_dir or Path(".segur")).expanduser().resolve()

    def plugin_manager(self) -> tuple[pluggy.PluginManager, dict[str, PluginRecord]]:
        """Plugins loaded into a bare plugin manager (no host, not configured): what
        ``segur plugins`` and command discovery need, without starting a runtime."""
        if self._plugins is None:
            if self._runtime is not None:
                self._plugins = (self._runtime.pm, self._runtime.plugins)
            else:
                from segur_core._loader import load_plugins, new_plugin_manager

                pm = new_plugin_manager()
                records = load_plugins(
                    pm, enabled=self.config().plugins, strict=self.effective_strict
                )
                self._plugins = (pm, records)
        return self._plugins

    def runtime(self, **kwargs: Any) -> Runtime:
        """The runtime of this invocation, created on first use, closed at exit."""
        if self._runtime is None:
            from segur_core.runtime import create_runtime

            kwargs.setdefault("strict", self.effective_strict)
            kwargs.setdefault("actor", cli_actor())
            if self.host:
                kwargs.setdefault("host", self.host)
            self._runtime = create_runtime(self.config(), **kwargs)
            ctx = click.get_current_context(silent=True)
            if ctx is not None:
                ctx.find_root().call_on_close(self.close)
        return self._runtime

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None


def get_state() -> CliState:
    """The :class:`CliState` of the running ``segur`` command (a default one outside)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return CliState()
    state = ctx.find_object(CliState)
    if state is None:
        state = ctx.find_root().ensure_object(CliState)
    return state


def get_runtime() -> Runtime:
    """The runtime of the running ``segur`` command, started on first use."""
    return get_state().runtime()


def pass_runtime(f: F) -> F:
    """Decorator for click commands: pass the runtime as the first argument."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return f(get_runtime(), *args, **kwargs)

    return wrapper  # type: ignore[return-value]
