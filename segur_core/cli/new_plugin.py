"""``segur new-plugin NAME``: generate a plugin package skeleton."""

from __future__ import annotations

from pathlib import Path

import click

from segur_core.cli.params import PathParam, short

__all__ = ["command"]


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=PathParam(file_okay=False),
    default="plugins",
    show_default=True,
    help="Folder to create the package in.",
)
def command(name: str, directory: str) -> None:
    """Create a new plugin package segur-NAME (entry point, config, hooks, tests)."""
    from segur_core.scaffold import create_plugin

    try:
        root = create_plugin(name, Path(directory))
    except OSError as error:
        raise click.ClickException(
            f"cannot create the plugin in {short(directory)}: {error.strerror}"
        ) from None
    click.echo(f"created {root}")
    click.echo(f"next: `uv sync --all-packages` (in the workspace), `uv run pytest {root}`")
