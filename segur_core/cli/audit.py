"""``segur audit``: read the audit journal and check that nobody tampered with it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from segur_core.cli._state import CliState

__all__ = ["command"]

JOURNAL_FILE = "journal.sqlite"


def _journal(ctx: click.Context) -> Any:
    from segur_core.journal import Journal

    journal = Journal(ctx.ensure_object(CliState).data_dir() / JOURNAL_FILE)
    ctx.call_on_close(journal.close)
    return journal


def _since(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 date or date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@click.group("audit")
def command() -> None:
    """The audit journal: show records, verify the hash chain."""


@command.command("show")
@click.option("--patient", "patient_id", help="Only records about this patient (local id).")
@click.option("--since", help="Only records at or after this ISO 8601 date/time (UTC).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Show the last N matching records.",
)
@click.option("--reveal", is_flag=True, help="Show patient ids instead of their pseudonyms.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def show(
    ctx: click.Context,
    patient_id: str | None,
    since: str | None,
    limit: int,
    reveal: bool,
    as_json: bool,
) -> None:
    """Show journal records (who, when, which patient, what, which service, outcome).

    Patients appear as their pseudonyms unless ``--reveal`` is given."""
    journal = _journal(ctx)
    records = journal.records(patient_id=patient_id, since=_since(since), limit=limit)

    def patient(value: str | None) -> str | None:
        return value if reveal else journal.pseudonym(value)

    if as_json:
        rows = []
        for record in records:
            row = record.as_dict()
            row["patient_id"] = patient(record.patient_id)
            rows.append(row)
        click.echo(json.dumps({"records": rows}, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="segur audit journal")
    for column in ("#", "at (UTC)", "actor", "patient", "action", "service", "outcome"):
        table.add_column(column, no_wrap=column in ("#", "outcome"), overflow="fold")
    for r in records:
        table.add_row(
            str(r.seq),
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.actor or "",
            patient(r.patient_id) or "",
            r.action,
            r.service or "",
            r.outcome,
            style=None if r.outcome in ("ok", "delivered") else "yellow",
        )
    Console().print(table)


@command.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def verify(ctx: click.Context, as_json: bool) -> None:
    """Recompute the hash chain; exit 1 when records were modified, deleted or reordered."""
    report = _journal(ctx).verify()
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    elif report.ok:
        click.echo(f"journal intact: {report.checked} records, head {report.head or '-'}")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="audit journal problems")
        for column in ("record", "problem", "details"):
            table.add_column(column)
        for problem in report.problems:
            table.add_row(str(problem.seq), str(problem.kind), problem.message, style="red")
        console = Console()
        console.print(table)
        console.print(
            f"journal TAMPERED: {len(report.problems)} problem(s) in {report.checked} records; "
            f"first bad record: {report.first_bad}",
            style="bold red",
            highlight=False,
        )
    if not report.ok:
        ctx.exit(1)
