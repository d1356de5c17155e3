"""``segur pki init DIR``: create the IGC-Santé-like test PKI used by the sandboxes."""

from __future__ import annotations

import json
from pathlib import Path

import click

from segur_core.cli import CORE_HELP
from segur_core.cli.params import PathParam, short
from segur_core.i18n import _, _l

__all__ = ["command"]


@click.group(name="pki", help=CORE_HELP["pki"])
def command() -> None:
    pass


@command.command(
    name="init",
    help=_l(
        "Create the test PKI in DIRECTORY (or show the one already there).\n\n"
        "Not for production: every certificate is marked TEST and keys are stored in clear."
    ),
)
@click.argument("directory", type=PathParam(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help=_l("Print JSON for machines."))
def init(directory: Path, as_json: bool) -> None:
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
        raise click.ClickException(
            _("cannot create the PKI in {where}: {reason}").format(where=where, reason=reason)
        ) from None
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

    state = _("already present, loaded") if existed else _("created")
    table = Table(
        title=_("test PKI in {folder} ({state})").format(folder=pki.directory, state=state)
    )
    table.add_column(_("role"), style="bold")
    table.add_column(_("what"))
    table.add_column(_("file"), overflow="fold")
    for role, text, path in rows:
        table.add_row(role, text, str(path.relative_to(pki.directory)))
    console = Console()
    console.print(table)
    console.print(
        _("TEST certificates only: never use them with real national services."),
        style="yellow",
        highlight=False,
    )
