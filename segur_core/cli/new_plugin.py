"""``segur new-plugin NAME``: generate a plugin package skeleton."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["command"]


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default="plugins",
    show_default=True,
    help="Folder to create the package in.",
)
def command(name: str, directory: str) -> None:
    """Create a new plugin package segur-NAME (entry point, config, hooks, tests)."""
    from segur_core.scaffold import create_plugin

    root = create_plugin(name, Path(directory))
    click.echo(f"created {root}")
    click.echo(f"next: `uv sync --all-packages` (in the workspace), `uv run pytest {root}`")
