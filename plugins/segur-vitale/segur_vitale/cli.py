"""``segur vitale``: list readers, read a card, watch the readers."""

from __future__ import annotations

import time
from typing import Any

import click

from segur_core.cli.output import emit_json, emit_json_line, json_option
from segur_vitale.i18n import _

__all__ = ["vitale"]


def _config() -> Any:
    from segur_core.cli import get_runtime
    from segur_vitale.config import VitaleConfig

    return get_runtime().plugin_config("vitale") or VitaleConfig()


@click.group()
def vitale() -> None:
    """Carte Vitale and CPS readers (PC/SC), virtual cards."""


@vitale.command()
@json_option
def readers(as_json: bool) -> None:
    """List the PC/SC readers and what card each holds."""
    from segur_core.cli.output import console, table
    from segur_core.errors import SegurError
    from segur_vitale import pcsc
    from segur_vitale.atr import card_kind, format_atr

    config = _config()
    try:
        with pcsc.session() as context:
            names = pcsc.list_readers(config.reader, context=context)
            sc = pcsc.scard()
            states = []
            if names:
                hresult, states = sc.SCardGetStatusChange(
                    context, 0, [(n, sc.SCARD_STATE_UNAWARE) for n in names])
                pcsc.check(hresult, _("cannot read the readers' state"))
    except SegurError as error:
        raise click.ClickException(str(error)) from error
    rows = []
    for name, state, atr in states:
        present = bool(state & sc.SCARD_STATE_PRESENT)
        rows.append({"reader": name, "card": present,
                     "atr": format_atr(bytes(atr)) if present else None,
                     "kind": card_kind(bytes(atr)).value if present else None})
    if as_json:
        emit_json({"readers": rows})
        return
    grid = table(_("PC/SC readers"),
                 {_("reader"): "text", _("card"): "key", _("kind"): "key", "ATR": "text"})
    for row in rows:
        grid.add_row(row["reader"], _("yes") if row["card"] else _("no"), row["kind"] or "",
                     row["atr"] or "")
    console().print(grid if rows else _("no reader connected"))


def _reading_rows(card: Any) -> list[dict[str, Any]]:
    from segur_core.convert import unstructure

    return [unstructure(reading) for reading in card.readings()]


@vitale.command()
@click.option("--reader", help="Only readers whose name contains this text.")
@click.option("--virtual", is_flag=True,
              help="Read the virtual demo card in process (no reader, no pcscd).")
@json_option
@click.option("--dispatch", is_flag=True,
              help="Also announce the reading to the plugins (on_card_read: INSi lookup...).")
def read(reader: str | None, virtual: bool, as_json: bool, dispatch: bool) -> None:
    """Read the carte Vitale in a reader and show its beneficiaries."""
    from segur_core.cli import get_runtime
    from segur_core.cli.output import console, table
    from segur_core.errors import SegurError
    from segur_vitale.reading import dispatch as dispatch_card
    from segur_vitale.sources import open_pcsc, open_virtual
    from segur_vitale.virtual.cards import demo_card
    from segur_vitale.vitale import read_vitale

    config = _config()
    runtime = get_runtime()
    virtual = virtual or config.transport == "virtual"
    try:
        opener = (open_virtual(demo_card(), prefer_pcsc=False) if virtual
                  else open_pcsc(reader or config.reader))
        with opener as source:
            card = read_vitale(source.transport)
        if dispatch:  # dispatch journals the read itself, with the beneficiary chosen
            dispatch_card(runtime, card)
        else:
            runtime.journal.record("vitale.card-read", details={
                "via": "cli", "card_kind": card.kind.value,
                "beneficiaries": len(card.beneficiaries)})
    except SegurError as error:
        raise click.ClickException(str(error)) from error
    rows = _reading_rows(card)
    if as_json:
        emit_json({"reader": source.description, "card_kind": card.kind.value,
                   "beneficiaries": rows})
        return
    grid = table(f"carte Vitale ({card.kind.value}) — {source.description}",
                 {_("rank"): "key", _("birth name"): "text", _("first names"): "text",
                  _("birth date"): "key", _("sex"): "key", "NIR": "key"})
    for row in rows:
        traits = row["traits"]
        grid.add_row(str(row["beneficiary_rank"]), traits["birth_name"],
                     " ".join(traits["first_names"]), traits["birth_date"], traits["sex"],
                     row["nir"] or "")
    console().print(grid)


@vitale.command()
@click.option("--birth-name", required=True, help="Birth name.")
@click.option("--first-names", required=True, help="Birth first names, space separated.")
@click.option("--sex", required=True, type=click.Choice(["M", "F", "I"]), help="Sex (M, F or I).")
@click.option("--birth-date", required=True, help="YYYY-MM-DD (00 for an unknown part).")
@click.option("--birth-place", help="INSEE code of the birthplace (99xxx abroad).")
@click.option("--nir", help="The NIR, when the patient gives it.")
@json_option
def manual(birth_name: str, first_names: str, sex: str, birth_date: str,
           birth_place: str | None, nir: str | None, as_json: bool) -> None:
    """No card can be read: type the traits; they are announced like a card reading
    (on_card_read: segur-ins searches them in INSi)."""
    from segur_core.cli import get_runtime
    from segur_core.errors import SegurError
    from segur_vitale.manual import dispatch_manual, manual_reading

    runtime = get_runtime()
    count, _head = runtime.journal.head()
    try:
        reading = dispatch_manual(runtime, manual_reading(
            birth_name=birth_name, first_names=first_names, sex=sex, birth_date=birth_date,
            birth_place=birth_place, nir=nir))
    except SegurError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        from segur_core.convert import unstructure
        from segur_core.model import mask_matricule

        shown = unstructure(reading)
        for key in ("nir", "insured_nir"):
            shown[key] = mask_matricule(shown[key]) if shown.get(key) else None
        # what the plugins did with it (segur-ins: the INSi search, the patient found...)
        done = [{"action": r.action, "outcome": r.outcome, "service": r.service,
                 "patient_id": r.patient_id}
                for r in runtime.journal.records(since=reading.read_at) if r.seq > count]
        emit_json({"source": reading.source.value, "dispatched": True, "reading": shown,
                   "journal": done})
        return
    click.echo(_("manual entry announced (on_card_read dispatched)"))


@vitale.command()
@click.option("--reader", help="Only readers whose name contains this text.")
@click.option("--count", type=int, default=0, help="Stop after this many readings (0: never).")
@click.option("--timeout", type=float, default=0.0, help="Stop after this many seconds.")
@json_option(lines=True)
def watch(reader: str | None, count: int, timeout: float, as_json: bool) -> None:
    """Watch the readers: read every carte Vitale inserted and announce it (with --json,
    one JSON object per event: reading, card inserted or removed, CPS, error)."""
    from segur_core.cli import get_runtime
    from segur_core.errors import SegurError
    from segur_vitale.reading import CounterReader

    config = _config()
    runtime = get_runtime()

    def on_reading(reading: Any) -> None:
        if as_json:
            emit_json_line({"event": "reading", "reader": reading.reader,
                            "beneficiary_rank": reading.beneficiary_rank,
                            "card_kind": reading.card_kind.value, "dispatched": True,
                            "read_at": reading.read_at})
            return
        click.echo(_("read: beneficiary {rank} from {reader} ({kind}); on_card_read dispatched")
                   .format(rank=reading.beneficiary_rank, reader=reading.reader,
                           kind=reading.card_kind.value))

    def on_event(event: Any) -> None:
        if as_json:
            emit_json_line({"event": event.kind.value, "reader": event.reader})
            return
        click.echo(f"{event.kind.value}: {event.reader}")

    def on_cps(reader_name: str, kind: Any) -> None:
        if as_json:
            emit_json_line({"event": "cps", "reader": reader_name, "card_kind": kind.value})
            return
        click.echo(_("CPS detected ({kind}) in {reader}").format(kind=kind.value,
                                                                 reader=reader_name))

    def on_error(reader_name: str, error: Any) -> None:
        if as_json:
            emit_json_line({"event": "error", "reader": reader_name, "error": str(error)})
        click.echo(_("error in {reader}: {error}").format(reader=reader_name, error=error),
                   err=True)

    counter = CounterReader(runtime, reader_filter=reader or config.reader,
                            on_reading=on_reading, on_event=on_event, on_cps=on_cps,
                            on_error=on_error)
    try:
        counter.start()
    except SegurError as error:
        raise click.ClickException(str(error)) from error
    click.echo(_("watching the readers (Ctrl-C to stop)"), err=as_json)
    deadline = time.monotonic() + timeout if timeout else None
    try:
        while not count or len(counter.readings) < count:
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        counter.stop()
