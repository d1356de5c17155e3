"""``segur pki init DIR``: create the IGC-Santé-like test PKI used by the sandboxes."""

from __future__ import annotations

from pathlib import Path

import click

from segur_core.cli import CORE_HELP
from segur_core.cli.output import console, emit_json, json_option, table
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
@json_option
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
        emit_json(payload)
        return
    state = _("already present, loaded") if existed else _("created")
    grid = table(
        _("test PKI in {folder} ({state})").format(folder=pki.directory, state=state),
        {_("role"): "key", _("what"): "text", _("file"): "text"},
    )
    for role, text, path in rows:
        grid.add_row(role, text, str(path.relative_to(pki.directory)))
    screen = console()
    screen.print(grid)
    screen.print(
        _("TEST certificates only: never use them with real national services."),
        style="yellow",
        highlight=False,
    )
