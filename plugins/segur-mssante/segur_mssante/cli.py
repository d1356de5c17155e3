"""``segur mss``: send and receive by MSSanté, and the MSSanté directory.

``send`` queues a document for professionals and the patient's Mon Espace Santé
mailbox and tries it at once, ``fetch`` integrates new messages, ``import`` integrates
an ``IHE_XDM.ZIP`` received another way, ``status`` shows the messages sent.
Subcommands of other modules are added there (``segur mss directory``...).
"""

from __future__ import annotations

from pathlib import Path

import click

from segur_core.cli.output import emit_json, json_option
from segur_core.cli.params import patient_option
from segur_mssante.i18n import _, ngettext

__all__ = ["mss"]

#: The largest file ``send`` and ``import`` read.
MAX_FILE_BYTES = 64 * 1024 * 1024


def _service():
    """The MSSanté service of this command's runtime (closed with it)."""
    from segur_core.cli import get_runtime
    from segur_mssante.service import service_for

    return service_for(get_runtime())


def _read(path: str, what: str) -> bytes:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise click.ClickException(
                _("{file} larger than {n} bytes").format(file=path, n=MAX_FILE_BYTES)
            )
        return file.read_bytes()
    except OSError as error:
        raise click.ClickException(
            _("cannot read {file}: {reason}").format(file=path, reason=error.strerror)
        ) from None


@click.group("mss")
def mss() -> None:
    """MSSanté secure messaging: send, receive, directory."""


@mss.command("send")
@click.argument("document")
@click.option("--to", "to", multiple=True, help="A professional's MSSanté address (repeatable).")
@patient_option("Also to PATIENT's Mon Espace Santé (qualified INS only).")
@click.option("--pdf", type=click.Path(dir_okay=False), help="The PDF rendering to attach.")
@click.option("--read-receipt", is_flag=True, help="Ask for a read receipt (MDN).")
@click.option("--no-reply", is_flag=True, help="X-MSS-MES: FIN (the patient may not reply).")
@json_option
def send(
    document: str,
    to: tuple[str, ...],
    patient: str | None,
    pdf: str | None,
    read_receipt: bool,
    no_reply: bool,
    as_json: bool,
) -> None:
    """Send DOCUMENT (a stored document id, or a CDA file) by MSSanté."""
    from segur_core.errors import SegurError

    service = _service()
    runtime = service.runtime
    try:
        stored = runtime.host.get_document(document)
        cda = stored.content if stored is not None else _read(document, "document")
        who = None
        if patient is not None:
            who = runtime.host.get_patient(patient)
            if who is None:
                raise click.ClickException(_("unknown patient {id!r}").format(id=patient))
        queued = service.send_document(
            cda,
            to=list(to),
            patient=who,
            pdf=_read(pdf, "PDF") if pdf else None,
            read_receipt=read_receipt,
            end=no_reply,
        )
        runtime.outbox.deliver_due()
        state = runtime.outbox.get(queued.delivery.id).state
    except SegurError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        sent = {
            "message_id": queued.message_id,
            "recipients": len(queued.recipients),
            "state": str(state),
        }
        emit_json(sent)
        return
    n = len(queued.recipients)
    click.echo(
        ngettext("{id} to {n} recipient: {state}", "{id} to {n} recipients: {state}", n).format(
            id=queued.message_id, n=n, state=state
        )
    )


@mss.command("fetch")
@json_option
def fetch(as_json: bool) -> None:
    """Fetch new messages and integrate their documents."""
    from segur_core.cli.progress import progress
    from segur_core.errors import SegurError

    try:
        with progress("fetching new messages", enabled=not as_json):
            outcomes = _service().fetch()
    except SegurError as exc:
        raise click.ClickException(str(exc)) from None
    rows = [
        {
            "message_id": o.message_id,
            "flag": o.flag,
            "reason": o.reason,
            "kept": o.kept,
            "documents": [
                {
                    "document": d.document_id,
                    "type": d.type_code,
                    "outcome": d.outcome,
                    "kit": d.kit(),
                }
                for r in o.reports
                for d in r.documents
            ],
        }
        for o in outcomes
    ]
    if as_json:
        emit_json({"messages": rows})
        return
    if not rows:
        click.echo(_("no new message"))
    for row in rows:
        docs = ", ".join(
            f"{d['type']} {d['outcome']}{_kit_note(d['kit'])}" for d in row["documents"]
        )
        click.echo(f"{row['message_id']}: {row['flag']} {docs or row['reason']}")


@mss.command("import")
@click.argument("archive", type=click.Path(dir_okay=False))
@json_option
def import_(archive: str, as_json: bool) -> None:
    """Integrate ARCHIVE, an IHE_XDM.ZIP received another way (an unknown patient is
    reported, not an error)."""
    from segur_core.errors import SegurError

    try:
        report = _service().import_archive(_read(archive, "archive"))
    except SegurError as exc:
        raise click.ClickException(str(exc)) from None
    rows = [
        {
            "document": d.document_id,
            "type": d.type_code,
            "outcome": d.outcome,
            "patient": d.patient_id,
            "kit": d.kit(),
        }
        for d in report.documents
    ]
    if as_json:
        emit_json({"documents": rows, "deviations": list(report.deviations)})
        return
    for row in rows:
        click.echo(f"{row['document']} ({row['type']}): {row['outcome']}{_kit_note(row['kit'])}")
    for deviation in report.deviations:
        click.echo(_("note: {text}").format(text=deviation))


def _kit_note(kit: dict | None) -> str:
    """What the test kit said of a received document, for a terminal."""
    if kit is None:
        return ""
    if not kit["valid"]:
        return _(" (fails the CDA test kit: {n} error(s), kept for the pharmacist)").format(
            n=kit["errors"]
        )
    return (
        _(" (CDA test kit: valid)") if not kit["skipped"] else _(" (CDA test kit: partly checked)")
    )


@mss.command("status")
@click.argument("message", required=False)
@json_option
def status(message: str | None, as_json: bool) -> None:
    """The messages sent (or MESSAGE, by its Message-ID) and their delivery state."""
    from segur_mssante.service import SEND_KIND

    service = _service()
    outbox = service.runtime.outbox
    if message is not None:
        key = message if message.startswith("<") else f"<{message}>"
        found = outbox.find(key)
        if found is None or found.kind != SEND_KIND:
            raise click.ClickException(_("no message sent with this Message-ID"))
        items = [found]
    else:
        items = outbox.list(kind=SEND_KIND)
    sent = [
        {
            "message_id": item.key,
            "state": str(item.state),
            "result": item.last_error or item.result or None,
            # what DSN and MDN said, per recipient
            "recipients": [
                {"recipient": row.recipient, "state": row.state, "detail": row.detail}
                for row in service.status.of(item.key)
            ],
        }
        for item in items
    ]
    if as_json:
        emit_json({"messages": sent})
        return
    if not sent:
        click.echo(_("no message sent"))
    for entry in sent:
        click.echo(f"{entry['message_id']} {entry['state']}  {entry['result'] or ''}".rstrip())
        for row in entry["recipients"]:
            detail = f" ({row['detail']})" if row["detail"] else ""
            click.echo(f"  {row['recipient']}: {row['state']}{detail}")


def _add_subcommands() -> None:
    from segur_mssante.directory_cli import directory

    mss.add_command(directory)


_add_subcommands()
