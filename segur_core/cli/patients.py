"""``segur patients``: the patients of the configured host (``--host``, ``$SEGUR_HOST``,
``[segur] host``), listed and shown on the pharmacist's own screen.

Names and birth dates are shown (the pharmacist identifies patients by them); the INS
matricule is masked as everywhere in the CLI. Every patient shown is an access to patient
data: it is journaled (``patients.list`` / ``patients.show``, naming who ran the command: see
:func:`~segur_core.cli._state.cli_actor`) with the
host's patient id, which the journal keeps and never logs in clear; nothing else is logged.
"""

from __future__ import annotations

from typing import Any

import click

from segur_core.cli import CORE_HELP
from segur_core.cli._state import CliState
from segur_core.cli.output import console, emit_json, json_option, table, when
from segur_core.cli.params import COUNT, patient_argument
from segur_core.i18n import _, _l, ngettext
from segur_core.model import mask_matricule

__all__ = ["command", "patient_row"]


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
        "ins": mask_matricule(identity.ins.matricule) if identity.ins else None,
    }


def _runtime(ctx: click.Context) -> Any:
    return ctx.ensure_object(CliState).runtime()


def _journal_reads(runtime: Any, action: str, patient_ids: list[str]) -> None:
    """One journal record per patient shown, written before anything is printed."""
    if patient_ids:
        runtime.journal.record_many([{"action": action, "patient_id": pid} for pid in patient_ids])


@click.group("patients", help=CORE_HELP["patients"])
def command() -> None:
    pass


@command.command(
    "list", help=_l("List the host's patients with their identity status (INS masked).")
)
@click.option("--limit", type=COUNT, help=_l("At most this many."))
@json_option
@click.pass_context
def list_(ctx: click.Context, limit: int | None, as_json: bool) -> None:
    runtime = _runtime(ctx)
    patients = runtime.host.find_patients()
    if limit is not None:
        patients = patients[:limit]
    rows = [patient_row(p) for p in patients]
    _journal_reads(runtime, "patients.list", [row["id"] for row in rows])
    if as_json:
        emit_json({"patients": rows})
        return
    grid = table(
        "segur patients",
        {_("id"): "text", _("name"): "text", _("born"): "key", _("status"): "key", "INS": "key"},
    )
    for row in rows:
        name = f"{row['birth_name']} {' '.join(row['first_names'])}".strip()
        grid.add_row(row["id"], name, when(row["birth_date"]), row["status"], row["ins"] or "-")
    screen = console()
    screen.print(grid)
    screen.print(
        ngettext("{n} patient", "{n} patients", len(rows)).format(n=len(rows)), highlight=False
    )


@command.command("show", help=_l("Show one patient of the host (INS masked)."))
@patient_argument()
@json_option
@click.pass_context
def show(ctx: click.Context, patient: str, as_json: bool) -> None:
    runtime = _runtime(ctx)
    found = runtime.host.get_patient(patient)
    if found is None:
        raise click.ClickException(_("no patient {id!r} in the host").format(id=patient[:40]))
    row = patient_row(found)
    _journal_reads(runtime, "patients.show", [row["id"]])
    if as_json:
        emit_json(row)
        return
    grid = table(
        _("patient {id}").format(id=patient), {"field": "key", "value": "text"}, show_header=False
    )
    for name, value in row.items():
        shown = " ".join(value) if isinstance(value, list) else value
        grid.add_row(name, "" if shown is None else str(shown))
    console().print(grid)
