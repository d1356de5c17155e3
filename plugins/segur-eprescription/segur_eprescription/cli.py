"""``segur eprescription``: scan a prescription id, show the prescription, dispense it.

``dispense`` takes the pharmacist's decisions per line (a line without one is delivered
as prescribed), queues the dispensation report in the outbox (sent now when the service
answers, later otherwise) and writes the eDISP-MED document to ``--out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from segur_core.cli.output import emit_json, json_option
from segur_core.cli.params import PathParam, out_option
from segur_eprescription.i18n import _, ngettext

__all__ = ["eprescription"]


def _service():
    from segur_core.cli import get_runtime
    from segur_eprescription.service import service_for

    return service_for(get_runtime())


def _line_value(option: str, raw: str) -> tuple[int, str]:
    number, sep, value = raw.partition("=")
    if not sep or not number.strip().isdigit() or not value.strip():
        raise click.BadParameter(
            _("expected LINE=VALUE, got {raw!r}").format(raw=raw), param_hint=option
        )
    return int(number), value.strip()


def _prescription_dict(fetched: Any) -> dict[str, Any]:
    p = fetched.prescription
    return {
        "id": p.id,
        "issued_at": p.issued_at.isoformat(),
        "prescriber_rpps": p.prescriber.rpps,
        "dispensations_done": fetched.done,
        "dispensations_allowed": fetched.allowed,
        "sequenced_open": fetched.open,
        "lines": [
            {
                "line": line.number,
                "product": line.product.label,
                "kind": str(line.product.kind),
                "code": line.product.code,
                "substance": line.product.substance,
                "dosage": line.dosage,
                "quantity": None if line.quantity is None else line.quantity.value,
                "duration_days": line.duration_days,
                "renewals": line.renewals,
                "substitutable": line.substitutable,
            }
            for line in p.lines
        ],
    }


@click.group("eprescription")
def eprescription() -> None:
    """Ordonnance numérique: scan, show, dispense."""


@eprescription.command("scan")
@click.argument("payload")
@json_option
def scan_(payload: str, as_json: bool) -> None:
    """The prescription id in PAYLOAD (a scanned QR payload or the typed number)."""
    from segur_eprescription.ids import PRESCRIPTION_ID_OID, scan

    found = scan(payload)
    if as_json:
        emit_json({"id": found, "oid": PRESCRIPTION_ID_OID})
    else:
        click.echo(found)


@eprescription.command("show")
@click.argument("payload")
@json_option
def show(payload: str, as_json: bool) -> None:
    """Fetch and show the prescription PAYLOAD names."""
    data = _prescription_dict(_service().fetch(payload))
    if as_json:
        emit_json(data)
        return
    click.echo(
        _("{id} of {date}, prescriber RPPS {rpps}, dispensation {rank} of {allowed}").format(
            id=data["id"],
            date=data["issued_at"][:10],
            rpps=data["prescriber_rpps"],
            rank=data["dispensations_done"] + 1,
            allowed=data["dispensations_allowed"],
        )
    )
    for line in data["lines"]:
        flags = "" if line["substitutable"] else " [non substituable]"
        click.echo(
            f"  {line['line']}. {line['product']} ({line['kind']} {line['code'] or '-'}), "
            + ngettext(
                "{dosage}, qty {quantity}, {renewals} renewal",
                "{dosage}, qty {quantity}, {renewals} renewals",
                line["renewals"],
            ).format(
                dosage=line["dosage"] or "-", quantity=line["quantity"], renewals=line["renewals"]
            )
            + flags
        )


@eprescription.command("dispense")
@click.argument("payload")
@click.option("--substitute", multiple=True, metavar="LINE=CIP13[:LABEL]",
              help="Generic substitution of LINE by the product CIP13.")  # fmt: skip
@click.option("--adapt", multiple=True, metavar="LINE=REASON", help="LINE adapted, and why.")
@click.option("--partial", multiple=True, metavar="LINE=QUANTITY[:REASON]",
              help="LINE partly dispensed (sequenced): the quantity given now.")  # fmt: skip
@click.option("--not-delivered", "not_delivered", multiple=True, metavar="LINE=REASON",
              help="LINE not delivered, and why.")  # fmt: skip
@out_option(type=PathParam(file_okay=False), help="Folder to write the eDISP-MED document to.")
@json_option
def dispense(
    payload: str,
    substitute: tuple[str, ...],
    adapt: tuple[str, ...],
    partial: tuple[str, ...],
    not_delivered: tuple[str, ...],
    out: str | None,
    as_json: bool,
) -> None:
    """Dispense the prescription PAYLOAD names (lines without a decision: as prescribed)."""
    from segur_eprescription.dispensation import Decision, LineDecision
    from segur_eprescription.models import CIP13_OID, Product, ProductKind, Quantity

    decisions = []
    for raw in substitute:
        number, value = _line_value("--substitute", raw)
        code, _sep, label = value.partition(":")
        if not (code.isdigit() and len(code) == 13):
            raise click.BadParameter(
                _("{code!r} is not a CIP13").format(code=code), param_hint="--substitute"
            )
        product = Product(ProductKind.CIP13, label or f"CIP {code}", code=code, system=CIP13_OID)
        decisions.append(LineDecision(number, Decision.SUBSTITUTED, product=product))
    for raw in adapt:
        number, value = _line_value("--adapt", raw)
        decisions.append(LineDecision(number, Decision.ADAPTED, reason=value))
    for raw in partial:
        number, value = _line_value("--partial", raw)
        quantity, _sep, reason = value.partition(":")
        try:
            amount = float(quantity)
        except ValueError:
            raise click.BadParameter(
                _("{value!r} is not a number").format(value=quantity), param_hint="--partial"
            ) from None
        decisions.append(
            LineDecision(number, Decision.PARTIAL, quantity=Quantity(amount), reason=reason or None)
        )
    for raw in not_delivered:
        number, value = _line_value("--not-delivered", raw)
        decisions.append(LineDecision(number, Decision.NOT_DELIVERED, reason=value))
    service = _service()
    fetched = service.fetch(payload)
    done = service.dispense(fetched, decisions)
    path = None
    if out is not None and done.edisp is not None:
        from segur_core.files import write_private

        folder = Path(out)
        path = folder / f"eDISP-MED_{done.report.prescription_id}_{done.report.report_id[:8]}.xml"
        write_private(path, done.edisp)
    service.runtime.outbox.deliver_due()
    state = str(service.runtime.outbox.get(done.delivery.id).state)
    result = {
        "prescription": done.report.prescription_id,
        "report": done.report.report_id,
        "report_state": state,
        "partial": done.report.partial,
        "lines": [{"line": x.line, "decision": str(x.decision)} for x in done.report.lines],
        "edisp": str(path) if path else None,
    }
    if as_json:
        emit_json(result)
        return
    click.echo(
        _("{prescription}: report {state}").format(prescription=result["prescription"], state=state)
    )
    for line in result["lines"]:
        click.echo(f"  {line['line']}. {line['decision']}")
    if path:
        click.echo(f"eDISP-MED: {path}")
