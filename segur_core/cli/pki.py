"""``segur pki init DIR``: create the IGC-Santé-like test PKI used by the sandboxes."""

from __future__ import annotations

import json
from pathlib import Path

import click

from segur_core.cli.params import PathParam, short

__all__ = ["command"]


@click.group(name="pki")
def command() -> None:
    """Test certificates (an IGC-Santé-like PKI for sandboxes, the demo and tests)."""


@command.command(name="init")
@click.argument("directory", type=PathParam(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def init(directory: Path, as_json: bool) -> None:
    """Create the test PKI in DIRECTORY (or show the one already there).

    Not for production: every certificate is marked TEST and keys are stored in clear.
    """
    from segur_core.errors import SegurError
    from segur_core.sandbox.pki import TestPKI

    try:
        existed = (directory / "pki.json").exists()
        pki = TestPKI.create(directory)
    except SegurError as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        reason = error.strerror or str(error)
        where = short(directory)
        raise click.ClickException(f"cannot create the PKI in {where}: {reason}") from None
    rows = pki.files()
    if as_json:
        payload = {
            "directory": str(pki.directory),
            "created": not existed,
            "files": [
                {"role": role, "description": text, "path": str(path)} for role, text, path in rows
            ],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    state = "already present, loaded" if existed else "created"
    table = Table(title=f"test PKI in {pki.directory} ({state})")
    table.add_column("role", style="bold")
    table.add_column("what")
    table.add_column("file", overflow="fold")
    for role, text, path in rows:
        table.add_row(role, text, str(path.relative_to(pki.directory)))
    console = Console()
    console.print(table)
    console.print(
        "[yellow]TEST certificates only: never use them with real national services.[/yellow]"
    )
