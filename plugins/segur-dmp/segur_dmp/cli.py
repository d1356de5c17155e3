"""``segur dmp``: the DMP status of a patient's documents, the DMP's list of them, a
document's content, and masking/unmasking/deletion of this pharmacy's documents."""

from __future__ import annotations

import sys

import click

from segur_core.cli.params import PathParam, short

__all__ = ["dmp"]


def _service():
    """The DMP service of this command's runtime, closed with it when the command ends
    (before the runtime stops the sandbox, which then stops at once)."""
    from segur_core.cli import get_runtime
    from segur_dmp.service import service_for

    return service_for(get_runtime())


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc))


@click.group("dmp")
def dmp() -> None:
    """DMP (Mon Espace Santé): status, consultation, masking."""


@dmp.command("status")
@click.argument("patient")
def status(patient: str) -> None:
    """Access status of PATIENT's DMP and the DMP status of the documents sent for them."""
    from segur_core.errors import SegurError

    service = _service()
    try:
        access = service.check_access(patient)
        click.echo(
            f"DMP: {'exists' if access.exists else 'none'}"
            f"{' (closed)' if access.closed else ''}; "
            f"authorisation: {access.authorization}"
            f"{' - ' + access.reason if access.reason else ''}"
        )
    except SegurError as exc:
        click.echo(f"DMP access: {exc}", err=True)
    rows = service.status.for_patient(patient)
    if not rows:
        click.echo("no document sent to the DMP for this patient")
    for row in rows:
        detail = f"  {row.detail}" if row.detail else ""
        click.echo(f"{row.document_id:<50} {row.state:<8} {row.updated_at}{detail}")


@dmp.command("list")
@click.argument("patient")
def list_(patient: str) -> None:
    """Documents in PATIENT's DMP (ITI-18, after the access check)."""
    from segur_core.errors import SegurError

    try:
        entries = _service().list(patient)
    except SegurError as exc:
        _fail(exc)
        return
    if not entries:
        click.echo("the DMP holds no document visible to this pharmacy")
    for e in entries:
        flag = " [masqué]" if e.masked else ""
        click.echo(f"{e.unique_id:<50} {e.creation_time} {e.type_code.code:<8} {e.title}{flag}")


def _patient_of(doc: str, patient: str | None) -> str:
    if patient:
        return patient
    row = _service().status.get(doc)
    if row is None:
        raise click.ClickException(f"unknown document {doc!r}: give --patient")
    return row.patient_id


@dmp.command("get")
@click.argument("doc")
@click.option("--patient", help="The patient (default: from the documents this pharmacy sent).")
@click.option("--output", "-o", type=PathParam(dir_okay=False), help="Write to this file.")
def get(doc: str, patient: str | None, output: str | None) -> None:
    """Retrieve document DOC from the DMP (ITI-43)."""
    from segur_core.errors import SegurError

    try:
        content = _service().get(_patient_of(doc, patient), doc)
    except SegurError as exc:
        _fail(exc)
        return
    if output:
        try:
            with open(output, "wb") as fh:
                fh.write(content)
        except OSError as error:
            raise click.ClickException(f"cannot write {short(output)}: {error.strerror}") from None
        click.echo(f"{len(content)} bytes written to {output}")
    else:
        sys.stdout.buffer.write(content)


def _update(action: str):
    @click.argument("doc")
    @click.option("--patient", help="The patient (default: from the documents sent).")
    def command(doc: str, patient: str | None) -> None:
        from segur_core.errors import SegurError

        service = _service()
        try:
            pid = _patient_of(doc, patient)
            if action == "delete":
                service.delete(pid, doc)
            else:
                service.set_masked(pid, doc, action == "mask")
        except SegurError as exc:
            _fail(exc)
            return
        click.echo(f"{doc}: {action} done")

    command.__doc__ = {
        "mask": "Mask DOC (one of this pharmacy's documents) to other professionals.",
        "unmask": "Make DOC visible again to other professionals.",
        "delete": "Delete DOC (one of this pharmacy's documents) from the DMP.",
    }[action]
    return dmp.command(action)(command)


for _action in ("mask", "unmask", "delete"):
    _update(_action)
