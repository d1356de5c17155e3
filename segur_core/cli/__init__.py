"""The ``segur`` command line.

The root group is lazy: a command's module is imported only when that command runs,
and plugins are loaded only when a command needs them, so ``segur plugins --json``
stays close to the cost of importing click and pluggy. Plugins add commands through the
``segur_cli_commands`` hook; their commands get the runtime with :func:`pass_runtime`
or :func:`get_runtime`.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

import click

from segur_core._version import __version__
from segur_core.cli._state import CliState, get_runtime, get_state, pass_runtime
from segur_core.cli.params import PathParam
from segur_core.i18n import (
    _,
    _l,
    install_click,
    localize,
    module_catalog,
    translated_summary,
)

__all__ = [
    "COMMANDS_GROUP",
    "CORE_COMMANDS",
    "CORE_HELP",
    "DEBUG_ENV",
    "CliState",
    "cli",
    "get_runtime",
    "get_state",
    "main",
    "pass_runtime",
]

install_click()  # before click builds --version's help below

#: Set to 1 to get the traceback of an unexpected error instead of its one-line account.
DEBUG_ENV = "SEGUR_DEBUG"

#: Command name -> module exposing a click object named ``command``.
CORE_COMMANDS: dict[str, str] = {
    "audit": "segur_core.cli.audit",
    "config": "segur_core.cli.config",
    "demo": "segur_core.cli.demo",
    "doctor": "segur_core.cli.doctor",
    "new-plugin": "segur_core.cli.new_plugin",
    "outbox": "segur_core.cli.outbox",
    "patients": "segur_core.cli.patients",
    "pki": "segur_core.cli.pki",
    "plugins": "segur_core.cli.plugins",
    "serve": "segur_core.cli.serve",
}

#: Command name -> its one-line help, so that ``segur --help`` lists the commands without
#: importing them (a test checks each against the command's own docstring).
CORE_HELP: dict[str, Any] = {
    "audit": _l("The audit journal: show records, verify the hash chain."),
    "config": _l("Inspect the configuration."),
    "demo": _l("Run the counter scenario with every enabled plugin against its sandbox."),
    "doctor": _l("Check the configuration, plugins, journal, certificates and endpoints."),
    "new-plugin": _l("Create a new plugin package segur-NAME (entry point, config, hooks, tests)."),
    "outbox": _l("Deliveries to national services: list, show, retry, purge."),
    "patients": _l("The patients of the host: list, show."),
    "pki": _l("Test certificates (an IGC-Santé-like PKI for sandboxes, the demo and tests)."),
    "plugins": _l("List installed plugins: version, distribution, status, hooks, failures."),
    "serve": _l("Serve the runtime as a local HTTP/JSON API (OpenAPI at /v1/openapi.json)."),
}

#: Entry-point group where a plugin distribution names the commands its
#: ``segur_cli_commands`` hook adds (``cda = "segur_documents.plugin"``: the value is the
#: plugin's own ``segur`` entry point), so that ``segur --help`` lists them unimported.
COMMANDS_GROUP = "segur.commands"


class LazyGroup(click.Group):
    """A group whose core commands are imported on use and whose plugin commands come
    from the ``segur_cli_commands`` hook, asked only when a name is not a core one."""

    def _core(self, name: str) -> click.Command | None:
        module_name = CORE_COMMANDS.get(name)
        if module_name is None or importlib.util.find_spec(module_name) is None:
            return None
        module = importlib.import_module(module_name)
        command = getattr(module, "command", None)
        if not isinstance(command, click.Command):
            return None
        return localize(command, _)  # help written as docstrings or help= in English

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        state = ctx.ensure_object(CliState)
        if state._cli_commands is None:
            commands: dict[str, click.Command] = {}
            try:
                pm, _records = state.plugin_manager()
            except Exception as exc:
                _fail(exc)
            collector = click.Group("segur")
            for impl in reversed(pm.hook.segur_cli_commands.get_hookimpls()):
                before = set(collector.commands)
                try:
                    impl.function(collector)
                    catalog = module_catalog(getattr(impl.plugin, "__name__", ""))
                    for name in set(collector.commands) - before:
                        localize(collector.commands[name], catalog.gettext)
                except Exception as exc:
                    if state.effective_strict:
                        raise click.ClickException(
                            _("plugin {name!r} failed to add its commands: {error}").format(
                                name=impl.plugin_name, error=exc
                            )
                        ) from exc
                    import logging

                    logging.getLogger("segur.cli").warning(
                        "plugin %r failed to add its commands: %s",
                        impl.plugin_name,
                        type(exc).__name__,
                    )
            for name, command in collector.commands.items():
                if name in CORE_COMMANDS or name in commands:
                    continue
                commands[name] = command
            state._cli_commands = commands
        return state._cli_commands

    def _declared_commands(self, ctx: click.Context) -> dict[str, str] | None:
        """Command name -> one-line help of the enabled plugins' commands, read from
        entry-point metadata (the help is the distribution's summary); ``None`` when an
        enabled plugin declares none, whose commands are then known only by importing it."""
        from importlib.metadata import entry_points

        from segur_core._loader import ENTRY_POINT_GROUP, _env_plugins, autoload_enabled

        if not autoload_enabled(os.environ):
            return {}
        try:
            configured = ctx.ensure_object(CliState).config().plugins
        except Exception as exc:
            _fail(exc)
        wanted = None if configured is None else set(configured)
        narrowed = _env_plugins(os.environ)
        every = entry_points()  # one scan of the installed distributions for both groups
        declared: dict[tuple[str | None, str], list[str]] = {}
        for ep in every.select(group=COMMANDS_GROUP):
            key = (ep.dist.name if ep.dist is not None else None, ep.value)
            declared.setdefault(key, []).append(ep.name)
        found: dict[str, str] = {}
        for ep in every.select(group=ENTRY_POINT_GROUP):
            if (wanted is not None and ep.name not in wanted) or (
                narrowed is not None and ep.name not in narrowed
            ):
                continue
            dist = ep.dist
            names = declared.get((dist.name if dist is not None else None, ep.value))
            if not names:
                return None
            summary = (dist.metadata["Summary"] if dist is not None else None) or ""
            summary = translated_summary(ep.value.split(".")[0].split(":")[0], summary)
            for name in names:
                if name not in CORE_COMMANDS:
                    found.setdefault(name, summary)
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``segur --help``, from :data:`CORE_HELP` and the plugins'
        entry-point metadata: no command module and no declared plugin is imported."""
        helps: dict[str, str] = {}
        for name in CORE_COMMANDS:
            if name in CORE_HELP:
                helps[name] = CORE_HELP[name]
            elif (command := self._core(name)) is not None:  # not in the table: imported
                helps[name] = command.get_short_help_str(200)
        declared = self._declared_commands(ctx)
        if declared is None:
            plugin_helps = {
                name: command.get_short_help_str(200)
                for name, command in self._plugin_commands(ctx).items()
                if not command.hidden
            }
        else:
            plugin_helps = declared
        for name, command in self.commands.items():
            helps.setdefault(name, command.get_short_help_str(200))
        for name, text in plugin_helps.items():
            helps.setdefault(name, text)
        if not helps:
            return
        limit = formatter.width - 6 - max(len(name) for name in helps)
        rows = [
            (name, click.Command(name, help=text).get_short_help_str(limit))
            for name, text in sorted(helps.items())
        ]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)

    def list_commands(self, ctx: click.Context) -> list[str]:
        core = [n for n, m in CORE_COMMANDS.items() if importlib.util.find_spec(m) is not None]
        return sorted(set(core) | set(self.commands) | set(self._plugin_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in CORE_COMMANDS:
            return self._core(cmd_name)
        return self._plugin_commands(ctx).get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.ClickException:
            raise
        except Exception as exc:
            from segur_core.errors import SegurError

            if isinstance(exc, SegurError):
                _fail(exc)
            raise

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Click's main, with a last line of defence: whatever escapes a command becomes
        one ``Error:`` line and exit status 1 (the traceback with ``SEGUR_DEBUG=1``)."""
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        try:
            return super().main(*args, **kwargs)
        except Exception as exc:
            if os.environ.get(DEBUG_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
                raise
            click.echo(_("Error: {message}").format(message=_one_line(exc)), err=True)
            sys.exit(1)


def _one_line(exc: BaseException) -> str:
    """A one-line account of an exception no command turned into a typed error."""
    from segur_core.cli.params import short
    from segur_core.errors import SegurError

    if isinstance(exc, SegurError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        where = f": {short(exc.filename)}" if exc.filename is not None else ""
        text = f"{exc.strerror}{where}"
    else:
        text = _("unexpected {error}: {message} (set {variable}=1 to see the traceback)").format(
            error=type(exc).__name__, message=short(exc, 200), variable=DEBUG_ENV
        )
    return " ".join(text.split())


def _fail(exc: BaseException) -> Any:
    from segur_core.errors import SegurError

    if isinstance(exc, SegurError):
        raise click.ClickException(str(exc)) from exc
    raise exc


@click.group(
    cls=LazyGroup,
    help=_l("segur: Ségur du numérique capabilities for pharmacy software."),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--config",
    "config_path",
    type=PathParam(dir_okay=False),
    default=None,
    help=_l("segur.toml to use (default: $SEGUR_CONFIG, then ./segur.toml, then defaults)."),
)
@click.option(
    "--host",
    "host",
    metavar="MODULE:CALLABLE",
    default=None,
    help=_l(
        "The LGO's host factory (default: $SEGUR_HOST, then [segur] host, then the "
        "SQLite reference host)."
    ),
)
@click.option("--strict", is_flag=True, help=_l("Fail when a plugin cannot be loaded."))
@click.version_option(__version__, prog_name="segur")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, host: str | None, strict: bool) -> None:
    ctx.obj = CliState(config_path=config_path, strict=strict, host=host)


def _setup_logging() -> None:
    """Show segur warnings on stderr, and hook-call traces when ``SEGUR_TRACE`` is set.
    Without tracing nothing is configured: Python's last-resort handler already prints
    warnings, and ``segur plugins`` does not pay for importing logging."""
    if os.environ.get("SEGUR_TRACE", "").strip().lower() not in {"1", "true", "yes", "on"}:
        return
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("segur")
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("segur.trace").setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point of ``segur``."""
    _setup_logging()
    return cli.main(args=argv, prog_name="segur")
