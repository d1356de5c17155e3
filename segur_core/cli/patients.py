"""``segur patients``: the patients of the configured host (``--host``, ``$SEGUR_HOST``,
``[segur] host``), listed and shown on the pharmacist's own screen.

Names and birth dates are shown (the pharmacist identifies patients by them); the INS
matricule is masked as everywhere in the CLI, and nothing about a patient is logged or
journaled by these read-only commands.
"""

from __future__ import annotations

import json
from typing import Any

import click

from segur_core.cli._state import CliState
from segur_core.cli.params import COUNT

__all__ = ["command", "patient_row"]


def _mask(matricule: str) -> str:
    if len(matricule) != 15:
        return "***"
    return f"{matricule[0]} {matricule[1:3]} {matricule[3:5]} ** *** *** {matricule[13:]}"


def patient_row(patient: Any) -> dict[str, Any]:
    """A patient as JSON-ready data, the INS matricule masked."""
    identity = patient.identity
    traits = identity.traits
    return {
        "id": patient.id,
        "birth_name": traits.birth_name,
        "first_names": list(traits.first_names),
        "used_name": traits.used_name,
        "sex": str(traits.sex),
        "birth_date": str(traits.birth_date),
        "status": str(identity.status),
        "ins": _mask(identity.ins.matricule) if identity.ins else None,
    }


def _host(ctx: click.Context) -> Any:
    return ctx.ensure_object(CliState).runtime().host


@click.group("patients")
def command() -> None:
    """The patients of the host: list, show."""


@command.command("list")
@click.option("--limit", type=COUNT, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def list_(ctx: click.Context, limit: int | None, as_json: bool) -> None:
    """List the host's patients with their identity status (INS masked)."""
    patients = _host(ctx).find_patients()
    if limit is not None:
        patients = patients[:limit]
    rows = [patient_row(p) for p in patients]
    if as_json:
        click.echo(json.dumps({"patients": rows}, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="segur patients")
    for column in ("id", "name", "born", "status", "INS"):
        table.add_column(column, overflow="fold")
    for row in rows:
        name = f"{row['birth_name']} {' '.join(row['first_names'])}".strip()
        table.add_row(row["id"], name, row["birth_date"], row["status"], row["ins"] or "-")
    console = Console()
    console.print(table)
    console.print(f"{len(rows)} patient(s)", highlight=False)


@command.command("show")
@click.argument("patient_id", metavar="PATIENT")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def show(ctx: click.Context, patient_id: str, as_json: bool) -> None:
    """Show one patient of the host (INS masked)."""
    patient = _host(ctx).get_patient(patient_id)
    if patient is None:
        raise click.ClickException(f"no patient {patient_id[:40]!r} in the host")
    row = patient_row(patient)
    if as_json:
        click.echo(json.dumps(row, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"patient {patient_id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in row.items():
        shown = " ".join(value) if isinstance(value, list) else value
        table.add_row(name, "" if shown is None else str(shown))
    Console().print(table)
