"""``segur audit``: read the audit journal and check that nobody tampered with it."""

from __future__ import annotations

from typing import Any

import click

from segur_core.cli import CORE_HELP
from segur_core.cli._state import CliState
from segur_core.cli._words import shown
from segur_core.cli.output import console, emit_json, json_option, table, when
from segur_core.cli.params import COUNT, moment, patient_option
from segur_core.i18n import _, _l, ngettext

__all__ = ["command"]


def _journal(ctx: click.Context) -> Any:
    from segur_core.journal import open_journal

    state = ctx.ensure_object(CliState)
    settings = state.config().settings
    journal = open_journal(
        state.data_dir(), settings.journal, store=settings.store_url, tenant=settings.tenant
    )
    ctx.call_on_close(journal.close)
    return journal


@click.group("audit", help=CORE_HELP["audit"])
def command() -> None:
    pass


@command.command(
    "show",
    help=_l(
        "Show journal records (who, when, which patient, what, which service, outcome).\n\n"
        "Patients appear as their pseudonyms unless --reveal is given."
    ),
)
@patient_option(_l("Only records about PATIENT (the host's patient id)."))
@click.option("--since", help=_l("Only records at or after this ISO 8601 date/time (UTC)."))
@click.option(
    "--limit",
    type=COUNT,
    default=200,
    show_default=True,
    help=_l("Show the last N matching records."),
)
@click.option("--reveal", is_flag=True, help=_l("Show patient ids instead of their pseudonyms."))
@json_option
@click.pass_context
def show(
    ctx: click.Context,
    patient: str | None,
    since: str | None,
    limit: int,
    reveal: bool,
    as_json: bool,
) -> None:
    journal = _journal(ctx)
    records = journal.records(patient_id=patient, since=moment(since), limit=limit)

    def pseudonym(value: str | None) -> str | None:
        return value if reveal else journal.pseudonym(value)

    damaged = sum(1 for r in records if r.damaged)

    if as_json:
        rows = []
        for record in records:
            row = record.as_dict()
            row["patient_id"] = pseudonym(record.patient_id)
            rows.append(row)
        emit_json({"records": rows})
        return
    grid = table(
        _("segur audit journal"),
        {"#": "key", _("at"): "key", _("actor"): "text", _("patient"): "text",
         _("action"): "text", _("service"): "text", _("outcome"): "text"},
    )  # fmt: skip
    for r in records:
        grid.add_row(
            str(r.seq),
            when(r.at, empty="?"),
            r.actor or "",
            pseudonym(r.patient_id) or "",
            r.action,
            r.service or "",
            _("DAMAGED: {problems}").format(problems="; ".join(r.damaged))
            if r.damaged
            else shown(r.outcome),
            style="bold red" if r.damaged else _style(r.outcome),
        )
    screen = console()
    screen.print(grid)
    if damaged:
        screen.print(
            ngettext(
                "{n} damaged record: the journal was tampered with; run `segur audit verify`",
                "{n} damaged records: the journal was tampered with; run `segur audit verify`",
                damaged,
            ).format(n=damaged),
            style="bold red",
            highlight=False,
        )


def _expected_head(
    ctx: click.Context, param: click.Parameter, text: str | None
) -> tuple[int, str] | None:
    if text is None:
        return None
    from segur_core.journal.anchor import parse_expected_head

    try:
        return parse_expected_head(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _style(outcome: str) -> str | None:
    return None if outcome in ("ok", "delivered") else "yellow"


@command.command(
    "verify",
    help=_l(
        "Recompute the hash chain and check it against the checkpoints (and --expect-head); "
        "exit 1 when records were modified, deleted, reordered, cut or rewritten."
    ),
)
@click.option(
    "--expect-head",
    callback=_expected_head,
    metavar="COUNT:HASH",
    help=_l(
        "A head kept elsewhere (printed by an earlier verify): the journal must still hold it."
    ),
)
@json_option
@click.pass_context
def verify(ctx: click.Context, expect_head: tuple[int, str] | None, as_json: bool) -> None:
    report = _journal(ctx).verify(expect_head=expect_head)
    if as_json:
        emit_json(report.as_dict())
    elif report.ok:
        checkpoint = report.checkpoint
        click.echo(
            _("journal intact: {n} records, head {count}:{head}").format(
                n=report.checked, count=report.count, head=report.head or "-"
            )
            + (
                _("; last checkpoint {n} records at {at}").format(
                    n=checkpoint["count"], at=when(checkpoint["at"])
                )
                if checkpoint
                else ""
            )
        )
        for note in report.notes:
            click.echo(_("note: {note}").format(note=note))
    else:
        grid = table(
            _("audit journal problems"),
            {_("record"): "key", _("problem"): "key", _("details"): "text"},
        )
        for problem in report.problems:
            grid.add_row(str(problem.seq), str(problem.kind), problem.message, style="red")
        screen = console()
        screen.print(grid)
        screen.print(
            _(
                "journal TAMPERED: {n} problem(s) in {checked} records; first bad record: {first}"
            ).format(n=len(report.problems), checked=report.checked, first=report.first_bad),
            style="bold red",
            highlight=False,
        )
    if not report.ok:
        ctx.exit(1)


@command.command(
    "anchor",
    help=_l(
        "Write a checkpoint of the journal as it stands now.\n\n"
        "With --adopt, an operator vouches for the records written before the checkpoint "
        "file was started: do it once, after upgrading, having checked the journal some "
        "other way."
    ),
)
@click.option(
    "--adopt",
    is_flag=True,
    help=_l("Vouch for records no checkpoint anchors (a journal from before checkpoints)."),
)
@json_option
@click.pass_context
def anchor(ctx: click.Context, adopt: bool, as_json: bool) -> None:
    checkpoint = _journal(ctx).checkpoint(adopt=adopt)
    if as_json:
        emit_json({"count": checkpoint.count, "head": checkpoint.head, "adopted": adopt})
        return
    click.echo(
        _("checkpoint written: {count}:{head}").format(count=checkpoint.count, head=checkpoint.head)
        + (_(" (adopted)") if adopt else "")
    )
