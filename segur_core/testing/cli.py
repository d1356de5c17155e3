"""The ``segur`` command tree as tests see it: every command of the core and of the
installed plugins, and the conventions each must follow (``docs/cli.md``). A plugin's
tests can check its own commands with :func:`convention_violations`."""

from __future__ import annotations

from collections.abc import Iterator

import click

from segur_core.cli.output import JSON_HELP, JSON_LINES_HELP

__all__ = ["JSON_LINES_COMMANDS", "OUTPUT_SPELLINGS", "commands", "convention_violations"]

#: Commands printing JSON Lines (one object per event) rather than one object.
JSON_LINES_COMMANDS = {("vitale", "watch"), ("serve",)}
#: Option spellings that name an output path: only ``-o/--out`` may remain visible.
OUTPUT_SPELLINGS = {"-o", "--out", "--output", "--dir", "--out-dir", "--output-dir",
                    "--directory", "--dest", "--destination", "--target"}  # fmt: skip


def commands(
    group: click.Group, ctx: click.Context, path: tuple[str, ...] = (), *, groups: bool = False
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """``(path, command)`` for every visible command under ``group`` (its groups too
    with ``groups=True``), plugin commands included when ``ctx`` is the root's."""
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        here = (*path, name)
        if isinstance(command, click.Group):
            if groups:
                yield here, command
            sub = click.Context(command, parent=ctx, info_name=name)
            yield from commands(command, sub, here, groups=groups)
        else:
            yield here, command


def convention_violations(group: click.Group, ctx: click.Context) -> list[str]:
    """Every break of the command-line conventions under ``group``, one line each: a
    command without ``--json`` or with its own wording, a patient not named ``PATIENT``
    / ``--patient PATIENT``, an output path option not spelled ``-o/--out``."""
    found = []
    for path, command in commands(group, ctx, groups=True):
        if isinstance(command, click.Group) and not command.invoke_without_command:
            continue  # a group that only holds commands; one that runs (export) is checked
        where = " ".join(path)
        options = [p for p in command.params if isinstance(p, click.Option)]
        json_flags = [p for p in options if "--json" in p.opts]
        expected = JSON_LINES_HELP if path in JSON_LINES_COMMANDS else JSON_HELP
        if not json_flags:
            found.append(f"{where}: no --json")
        elif str(json_flags[0].help) != str(expected) or json_flags[0].name != "as_json":
            worded = str(json_flags[0].help)
            found.append(f"{where}: --json worded {worded!r}, not {str(expected)!r}")
        for param in command.params:
            names = {param.name or "", *getattr(param, "opts", ())}
            if any("patient" in n.lower() for n in names):
                if isinstance(param, click.Argument):
                    if param.name != "patient" or param.metavar != "PATIENT":
                        found.append(f"{where}: patient argument {param.name!r}, not PATIENT")
                elif param.opts != ["--patient"] or param.metavar != "PATIENT":
                    found.append(f"{where}: patient option {param.opts}, not --patient PATIENT")
            if isinstance(param, click.Option) and not param.hidden:
                spelled = set(param.opts) | set(param.secondary_opts)
                if spelled & OUTPUT_SPELLINGS and (
                    sorted(param.opts) != ["--out", "-o"] or param.name != "out"
                ):
                    found.append(f"{where}: output option {param.opts}, not -o/--out")
    return found
