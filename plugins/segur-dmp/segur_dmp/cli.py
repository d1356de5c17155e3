"""``segur dmp``: the DMP status of a patient's documents, the DMP's list of them, a
document's content, and masking/unmasking/deletion of this pharmacy's documents."""

from __future__ import annotations

import base64
import hashlib
import sys
from typing import Any

import click

from segur_core.cli.output import emit_json, json_option, when
from segur_core.cli.params import PathParam, out_option, patient_argument, patient_option, short
from segur_dmp.i18n import _

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
@patient_argument()
@json_option
def status(patient: str, as_json: bool) -> None:
    """Access status of PATIENT's DMP and the DMP status of the documents sent for them."""
    from segur_core.errors import SegurError

    service = _service()
    access: dict[str, Any] = {}
    try:
        found = service.check_access(patient)
        access = {"exists": found.exists, "closed": found.closed,
                  "authorization": found.authorization, "reason": found.reason or None}  # fmt: skip
    except SegurError as exc:
        access = {"error": str(exc)}
    rows = service.status.for_patient(patient)
    if as_json:
        emit_json({
            "access": access,
            "documents": [
                {"document": row.document_id, "state": row.state, "detail": row.detail,
                 "delivery": row.delivery_id, "updated_at": row.updated_at or None}
                for row in rows
            ],
        })  # fmt: skip
        return
    if "error" in access:
        click.echo(_("DMP access: {error}").format(error=access["error"]), err=True)
    else:
        click.echo(
            "DMP: "
            + (_("exists") if access["exists"] else _("none"))
            + (_(" (closed)") if access["closed"] else "")
            + "; "
            + _("authorisation: {value}").format(value=access["authorization"])
            + (" - " + access["reason"] if access["reason"] else "")
        )
    if not rows:
        click.echo(_("no document sent to the DMP for this patient"))
    for row in rows:  # the id alone on its line: an OID is never cut
        click.echo(row.document_id)
        detail = f"  {row.detail}" if row.detail else ""
        click.echo(f"  {row.state}  {when(row.updated_at)}{detail}")


@dmp.command("list")
@patient_argument()
@json_option
def list_(patient: str, as_json: bool) -> None:
    """Documents in PATIENT's DMP (ITI-18, after the access check)."""
    from segur_core.errors import SegurError

    try:
        entries = _service().list(patient)
    except SegurError as exc:
        _fail(exc)
        return
    if as_json:
        emit_json({
            "documents": [
                {"document": e.unique_id, "title": e.title, "type": e.type_code.code,
                 "type_display": e.type_code.display or None,
                 "created_at": _iso(e.creation_time), "masked": e.masked,
                 "mime_type": e.mime_type, "size": e.size or None}
                for e in entries
            ],
        })  # fmt: skip
        return
    if not entries:
        click.echo(_("the DMP holds no document visible to this pharmacy"))
    for e in entries:  # the id alone on its line: an OID is never cut
        flag = " [masqué]" if e.masked else ""
        click.echo(e.unique_id)
        click.echo(f"  {when(e.creation_time)}  {e.type_code.code}  {e.title}{flag}")


def _iso(ts: str) -> str | None:
    """An XDS time (``20261202044900``) as ISO 8601, for ``--json``."""
    from segur_core.cli.output import parse_time

    parsed = parse_time(ts)
    return parsed.isoformat() if parsed is not None else (ts or None)


def _patient_of(doc: str, patient: str | None) -> str:
    if patient:
        return patient
    row = _service().status.get(doc)
    if row is None:
        raise click.ClickException(_("unknown document {doc!r}: give --patient").format(doc=doc))
    return row.patient_id


_PATIENT_OF_DOC = "The patient (default: from the documents this pharmacy sent)."


@dmp.command("get")
@click.argument("doc")
@patient_option(_PATIENT_OF_DOC)
@out_option("--output", type=PathParam(dir_okay=False), help="Write to this file.")
@json_option
def get(doc: str, patient: str | None, out: str | None, as_json: bool) -> None:
    """Retrieve document DOC from the DMP (ITI-43): to stdout, or to -o/--out FILE."""
    from segur_core.errors import SegurError

    try:
        content = _service().get(_patient_of(doc, patient), doc)
    except SegurError as exc:
        _fail(exc)
        return
    if out:
        try:
            with open(out, "wb") as fh:
                fh.write(content)
        except OSError as error:
            raise click.ClickException(
                _("cannot write {path}: {reason}").format(path=short(out), reason=error.strerror)
            ) from None
    if as_json:
        report = {"document": doc, "bytes": len(content),
                  "sha256": hashlib.sha256(content).hexdigest(), "out": out}  # fmt: skip
        if not out:
            report["content_base64"] = base64.b64encode(content).decode("ascii")
        emit_json(report)
    elif out:
        click.echo(_("{n} bytes written to {path}").format(n=len(content), path=out))
    else:
        sys.stdout.buffer.write(content)


def _update(action: str):
    @click.argument("doc")
    @patient_option(_PATIENT_OF_DOC)
    @json_option
    def command(doc: str, patient: str | None, as_json: bool) -> None:
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
        if as_json:
            emit_json({"document": doc, "action": action, "done": True})
            return
        click.echo(_("{doc}: {action} done").format(doc=doc, action=action))

    command.__doc__ = {
        "mask": "Mask DOC (one of this pharmacy's documents) to other professionals.",
        "unmask": "Make DOC visible again to other professionals.",
        "delete": "Delete DOC (one of this pharmacy's documents) from the DMP.",
    }[action]
    return dmp.command(action)(command)


for _action in ("mask", "unmask", "delete"):
    _update(_action)
