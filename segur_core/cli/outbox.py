"""``segur outbox``: what is pending, delivered or dead, and the operator's actions on it
(retry a dead delivery, purge old ones). Works on the outbox file in the data directory
without starting plugins; every action is written to the audit journal."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from pathlib import Path
from typing import Any

import click

from segur_core.cli import CORE_HELP
from segur_core.cli._state import CliState, cli_actor
from segur_core.cli._words import shown
from segur_core.cli.output import console, emit_json, json_option, table, when
from segur_core.cli.params import COUNT, ROW_ID
from segur_core.i18n import _, _l, ngettext
from segur_core.outbox.rows import delivery_row

__all__ = ["OUTBOX_FILE", "command", "delivery_row", "parse_age"]

OUTBOX_FILE = "outbox.sqlite"
STATES = ("pending", "in-flight", "delivered", "dead")
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> dt.timedelta:
    """``90s``, ``15m``, ``12h``, ``7d``, ``2w`` (seconds without a unit)."""
    match = _AGE.match(text)
    if not match:
        raise click.BadParameter(
            _("{text!r} is not an age such as 30m, 12h or 7d").format(text=text)
        )
    try:
        return dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    except OverflowError:
        raise click.BadParameter(_("{text!r} is too long an age").format(text=text)) from None


def _data_dir(ctx: click.Context) -> Path:
    return ctx.ensure_object(CliState).data_dir()


def _outbox(ctx: click.Context, *, configured: bool = False) -> Any:
    """The outbox file of the data directory; ``configured``: with the ``[segur.outbox]``
    settings (the payload retention)."""
    from segur_core.outbox import Outbox

    segur = ctx.ensure_object(CliState).config().settings
    outbox = Outbox(
        segur.store_url or _data_dir(ctx) / OUTBOX_FILE,
        settings=segur.outbox if configured else None,
        tenant=segur.tenant,
    )
    ctx.call_on_close(outbox.close)
    return outbox


def _journal(ctx: click.Context, action: str, **fields: Any) -> None:
    from segur_core.journal import open_journal

    state = ctx.ensure_object(CliState)
    settings = state.config().settings
    with open_journal(
        state.data_dir(), settings.journal, store=settings.store_url, tenant=settings.tenant
    ) as journal:
        journal.record(action, actor=cli_actor(), **fields)


def _short(text: str | None, width: int = 60) -> str:
    """``text`` on one line, cut between words to about ``width`` characters."""
    text = " ".join((text or "").split())
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] if " " in text[: width - 1] else text[: width - 1]
    return cut + " …"


#: The list's column headers, as shown.
_COLUMNS = {
    "id": "id",
    "kind": _l("kind"),
    "key": _l("key"),
    "state": _l("state"),
    "tries": _l("tries"),
    "settled": _l("settled"),
    "last error": _l("last error"),
}
_STYLE = {"dead": "red", "pending": "yellow", "in-flight": "cyan", "delivered": "green"}


@click.group("outbox", help=CORE_HELP["outbox"])
def command() -> None:
    pass


@command.command("list", help=_l("List deliveries, oldest first, with a count per state."))
@click.option("--state", type=click.Choice(STATES), help=_l("Only deliveries in this state."))
@click.option("--kind", help=_l("Only deliveries of this kind (dmp.iti41...)."))
@click.option("--limit", type=COUNT, help=_l("At most this many."))
@json_option
@click.pass_context
def list_(
    ctx: click.Context, state: str | None, kind: str | None, limit: int | None, as_json: bool
) -> None:
    outbox = _outbox(ctx)
    deliveries = outbox.list(state, kind=kind, limit=limit)
    counts = {str(s): n for s, n in outbox.counts().items()}
    if as_json:
        emit_json({"counts": counts, "deliveries": [delivery_row(d) for d in deliveries]})
        return
    kinds = {"id": "key", "kind": "text", "key": "text", "state": "key", "tries": "key",
             "settled": "text", "last error": "text"}  # fmt: skip
    grid = table("segur outbox", {str(_COLUMNS[c]): kind for c, kind in kinds.items()})
    for d in deliveries:
        grid.add_row(
            str(d.id),
            d.kind,
            d.key,
            shown(d.state),
            str(d.attempts),
            when(d.settled_at),
            _short(d.last_error),
            style=_STYLE.get(str(d.state)),
        )
    screen = console()
    screen.print(grid)
    screen.print(", ".join(f"{n} {shown(s)}" for s, n in counts.items()), highlight=False)
    if counts.get("dead"):
        screen.print(
            _(
                "{n} dead deliveries will not be sent again unless retried:"
                " segur outbox retry ID (or --all-dead)"
            ).format(n=counts["dead"]),
            style="red",
            highlight=False,
        )


@command.command(
    "show", help=_l("Show one delivery: state, attempts, last error, payload size and digest.")
)
@click.argument("ident", metavar="ID", type=ROW_ID)
@json_option
@click.pass_context
def show(ctx: click.Context, ident: int, as_json: bool) -> None:
    outbox = _outbox(ctx)
    delivery = outbox.get(ident)
    payload = outbox.payload(ident)
    row = delivery_row(delivery)
    row["payload_bytes"] = len(payload)
    row["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    if as_json:
        emit_json(row)
        return
    grid = table(
        _("delivery {id}").format(id=ident), {"field": "key", "value": "text"}, show_header=False
    )
    for name, value in row.items():
        value = when(value) if name.endswith("_at") else value
        grid.add_row(name, "" if value is None else str(value))
    console().print(grid)


@command.command(
    "retry",
    help=_l("Give dead deliveries a new series of attempts (a running worker sends them)."),
)
@click.argument("idents", metavar="ID...", type=ROW_ID, nargs=-1)
@click.option("--all-dead", is_flag=True, help=_l("Retry every dead delivery."))
@json_option
@click.pass_context
def retry(ctx: click.Context, idents: tuple[int, ...], all_dead: bool, as_json: bool) -> None:
    outbox = _outbox(ctx)
    if all_dead:
        idents = idents + tuple(d.id for d in outbox.list("dead"))
    if not idents:
        raise click.UsageError(_("name the deliveries to retry, or pass --all-dead"))
    retried = []
    for ident in dict.fromkeys(idents):
        delivery = outbox.retry(ident)
        _journal(
            ctx,
            "outbox.retry",
            service=delivery.kind,
            patient_id=delivery.patient_id,
            details={"delivery": delivery.id, "key": delivery.key},
        )
        retried.append(delivery)
    if as_json:
        emit_json({"retried": [delivery_row(d) for d in retried]})
        return
    for d in retried:
        click.echo(
            _("delivery {id} ({kind}, {key}) is pending again").format(
                id=d.id, kind=d.kind, key=d.key
            )
        )


@command.command(
    "purge",
    help=_l(
        "Delete settled deliveries (their audit records stay in the journal), or with "
        "--payloads drop only the payloads of old delivered ones; then give the freed "
        "space back to the file system."
    ),
)
@click.option(
    "--state",
    type=click.Choice(["delivered", "dead"]),
    default="delivered",
    show_default=True,
    help=_l("Which settled deliveries to delete."),
)
@click.option("--older-than", "older_than", default=None, help=_l("Age such as 30m, 12h, 7d."))
@click.option(
    "--payloads",
    is_flag=True,
    help=_l(
        "Keep the deliveries: drop the payload of those delivered longer ago than "
        "--older-than (default: [segur.outbox] payload_retention_days)."
    ),
)
@json_option
@click.pass_context
def purge(
    ctx: click.Context, state: str, older_than: str | None, payloads: bool, as_json: bool
) -> None:
    outbox = _outbox(ctx, configured=payloads)
    before = _file_bytes(outbox.path)
    if payloads:
        retention = dt.timedelta(seconds=outbox.settings.payload_retention)
        age = parse_age(older_than) if older_than is not None else retention
        state = "delivered"
        count = outbox.drop_payloads(age)
    else:
        age = parse_age(older_than or "0s")
        count = outbox.purge(state, older_than=age)
    outbox.compact()
    after = _file_bytes(outbox.path)
    seconds = age.total_seconds()
    _journal(
        ctx,
        "outbox.purge",
        details={"state": state, "older_than_s": seconds, "deleted": count, "payloads": payloads},
    )
    if as_json:
        emit_json(
            {"purged": count, "state": state, "older_than_s": seconds, "payloads": payloads,
             "file_bytes": {"before": before, "after": after}}
        )  # fmt: skip
        return
    if payloads:
        done = ngettext(
            "dropped the payload of {n} delivered delivery",
            "dropped the payloads of {n} delivered deliveries",
            count,
        )
    else:
        done = ngettext("purged {n} {state} delivery", "purged {n} {state} deliveries", count)
    click.echo(done.format(n=count, state=shown(state)))
    click.echo(
        _("outbox file: {before} bytes before, {after} bytes after").format(
            before=before, after=after
        )
    )


def _file_bytes(path: Path | str) -> int | None:
    """The size of the outbox's SQLite file and its WAL (``None`` for a database URL)."""
    if not isinstance(path, Path):
        return None
    files = (path, path.with_name(path.name + "-wal"))
    return sum(f.stat().st_size for f in files if f.exists())


def _seconds(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(_("{value} is not a number of seconds").format(value=value))
    return value


@command.command(
    "run",
    help=_l(
        "Send pending deliveries through the plugins' senders (the worker). Ctrl-C or "
        "SIGTERM stops after the item being sent: nothing is lost, an interrupted item is "
        "sent again."
    ),
)
@click.option(
    "--until-idle",
    is_flag=True,
    help=_l("Stop once nothing is left to send (retries waited for), instead of at Ctrl-C."),
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, 86400),
    default=300.0,
    show_default=True,
    callback=_seconds,
    help=_l("With --until-idle: give up waiting after this many seconds (exit status 1)."),
)
@click.option(
    "--for",
    "for_seconds",
    type=click.FloatRange(0, 86400 * 366),
    callback=_seconds,
    help=_l("Without --until-idle: stop after this many seconds (default: at Ctrl-C or SIGTERM)."),
)
@json_option
@click.pass_context
def run(
    ctx: click.Context, until_idle: bool, timeout: float, for_seconds: float | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Ctrl-C and SIGTERM stop the worker after the batch it is sending, then the counts
    are printed (``"interrupted": true``). Ctrl-C exits 130, a person interrupting at a
    terminal; SIGTERM, how systemd, Docker, supervisord and ``kill`` ask a service to stop,
    exits 0 as ``segur serve`` does: a stop asked for is a success (systemd marks a unit
    whose process exits 143 as failed), and nothing is lost, what is left stays pending
    for the next run."""
    import signal

    from segur_core.signals import stop_event

    outbox = ctx.ensure_object(CliState).runtime().outbox
    before = {str(s): n for s, n in outbox.counts().items()}
    idle = True
    interrupted = False
    with stop_event(signal.SIGTERM) as stop:
        try:
            if until_idle:
                from segur_core.cli.progress import progress

                with progress(_("delivering until nothing is left"), enabled=not as_json):
                    idle = outbox.run_until_idle(timeout=timeout, stop=stop)
            else:
                if not as_json:
                    click.echo(_("delivering; Ctrl-C to stop"), err=True)
                outbox.start_worker()
                stop.wait(for_seconds)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            outbox.stop_worker()
    terminated = stop.is_set()
    after = {str(s): n for s, n in outbox.counts().items()}
    data = {"idle": idle and not (interrupted or terminated),
            "interrupted": interrupted or terminated, "before": before,
            "counts": after}  # fmt: skip
    if as_json:
        emit_json(data)
    else:
        click.echo(", ".join(f"{n} {shown(s)}" for s, n in after.items()) or _("outbox empty"))
        if terminated:
            click.echo(_("stopped by SIGTERM; what is left stays pending"), err=True)
        elif not idle:
            click.echo(_("still unsettled after {seconds:g} s").format(seconds=timeout), err=True)
    if interrupted:
        raise SystemExit(130)
    if not idle and not terminated:
        raise SystemExit(1)
