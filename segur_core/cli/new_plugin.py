"""``segur new-plugin NAME``: generate a plugin package skeleton."""

from __future__ import annotations

from pathlib import Path

import click

from segur_core.cli import CORE_HELP
from segur_core.cli.output import emit_json, json_option
from segur_core.cli.params import PathParam, out_option, short
from segur_core.i18n import _, _l

__all__ = ["command"]


@click.command("new-plugin", help=CORE_HELP["new-plugin"])
@click.argument("name")
@out_option(
    "--dir",
    type=PathParam(file_okay=False),
    default="plugins",
    show_default=True,
    help=_l("Folder to create the package in."),
)
@json_option
def command(name: str, out: str, as_json: bool) -> None:
    from segur_core.scaffold import create_plugin

    try:
        root = create_plugin(name, Path(out))
    except OSError as error:
        raise click.ClickException(
            _("cannot create the plugin in {folder}: {reason}").format(
                folder=short(out), reason=error.strerror
            )
        ) from None
    if as_json:
        emit_json({"name": name, "path": str(root)})
        return
    click.echo(_("created {folder}").format(folder=root))
    click.echo(
        _("next: `uv sync --all-packages` (in the workspace), `uv run pytest {folder}`").format(
            folder=root
        )
    )
