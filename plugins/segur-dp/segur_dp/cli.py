"""``segur dp``: the patient's DP history, DP creation with consent, and the DP-Alertes /
DP-Rappels to acknowledge. Errors are one line (``Error: ...``), never a traceback."""

from __future__ import annotations

import click

from segur_core.cli.output import emit_json, json_option
from segur_core.cli.params import patient_argument
from segur_dp.i18n import _

__all__ = ["dp"]


def _service():
    from segur_core.cli import get_runtime
    from segur_dp.service import service_for

    return service_for(get_runtime())


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc))  # the message and its hint, one line


@click.group("dp")
def dp() -> None:
    """Dossier Pharmaceutique: history, creation with consent, alerts and recalls."""


@dp.command("history")
@patient_argument()
@json_option
@click.option(
    "--months",
    type=click.IntRange(1, 21 * 12),
    help="At most this many months of history in each category (default: [dp.depth]).",
)
@click.option(
    "--ndp",
    metavar="NDP",
    help="The patient's NDP (given by `segur dp create`): read by it, no card or INS needed.",
)
def history(patient: str, as_json: bool, months: int | None, ndp: str | None) -> None:
    """PATIENT's DP history (the host's patient id), newest first."""
    from segur_core.errors import SegurError
    from segur_dp.codec import line_to_json

    try:
        lines = _service().history(patient, months=months, ndp=ndp)
    except SegurError as exc:
        _fail(exc)
        return
    if as_json:
        emit_json({"lines": [line_to_json(line) for line in lines]})
        return
    if not lines:
        click.echo(_("the DP holds no dispensation within the depth asked"))
    for line in lines:
        click.echo(
            f"{line.dispensed_at:%Y-%m-%d}  {line.category.value:<10} {line.product_code:<13}"
            f"  x{line.quantity:<3} {line.label}"
            + (f"  ({line.pharmacy})" if line.pharmacy else "")
        )


@dp.command("create")
@patient_argument()
@json_option
def create(patient: str, as_json: bool) -> None:
    """Open PATIENT's DP with the consent recorded in the patient file (a refusal is
    recorded with the DP); the NDP it gives back is for the patient file."""
    from segur_core.errors import SegurError

    try:
        dossier = _service().create(patient)
    except SegurError as exc:
        _fail(exc)
        return
    if as_json:
        emit_json({"status": dossier.status, "ndp": dossier.ndp})
        return
    click.echo(
        {"created": _("DP created"), "exists": _("the patient already has a DP")}.get(
            dossier.status, _("the patient's refusal is recorded with the DP")
        )
    )
    if dossier.ndp is not None:  # for the patient file: `segur dp history PATIENT --ndp`
        click.echo(f"NDP: {dossier.ndp}")


@dp.command("alerts")
@json_option
def alerts(as_json: bool) -> None:
    """Poll DP-Alertes and DP-Rappels and put each to the pharmacist to acknowledge."""
    from segur_core.errors import SegurError
    from segur_dp.codec import alert_to_json

    try:
        outcomes = _service().alerts()
    except SegurError as exc:
        _fail(exc)
        return
    if as_json:
        items = [
            {**alert_to_json(o.alert), "acknowledged": o.acknowledged, "decided_by": o.decided_by}
            for o in outcomes
        ]
        emit_json({"alerts": items})
        return
    if not outcomes:
        click.echo(_("no alert or recall to acknowledge"))
    for o in outcomes:
        state = _("acknowledged") if o.acknowledged else _("NOT acknowledged")
        click.echo(f"{o.alert.kind.value:<7} {o.alert.id}  {state}  {o.alert.title}")
