"""Demo step (order 300, prescription): a prescription is scanned from its QR payload,
fetched from the sandbox service, dispensed with one generic substitution, the report
sent through the outbox and the eDISP-MED document written to the output folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segur_core.plugin import DemoContext

__all__ = ["DEMO_PAYLOAD", "run_demo_step"]

ACTOR = "eprescription"
#: The QR payload of the demo (its format is not public: an id in a URL is assumed).
DEMO_PAYLOAD = "https://ordonnance.example/?id=SBX000000000000001"


def run_demo_step(ctx: DemoContext) -> None:
    from segur_eprescription.dispensation import Decision, LineDecision
    from segur_eprescription.i18n import _, ngettext
    from segur_eprescription.models import CIP13_OID, Product, ProductKind
    from segur_eprescription.service import DISPENSATION_KIND, service_for

    runtime = ctx.runtime
    service = service_for(runtime)
    fetched = service.fetch(DEMO_PAYLOAD)
    p = fetched.prescription
    ctx.record(
        ACTOR,
        ngettext(
            "prescription {id} scanned and fetched: {n} line, dispensation {rank} of {allowed}",
            "prescription {id} scanned and fetched: {n} lines, dispensation {rank} of {allowed}",
            len(p.lines),
        ).format(id=p.id, n=len(p.lines), rank=fetched.done + 1, allowed=fetched.allowed),
    )
    line = next(x for x in p.lines if x.substitutable and x.product.code)
    generic = Product(
        ProductKind.CIP13, "PARACETAMOL MYLAN 500 mg, comprimé", code="3400933516390",
        system=CIP13_OID, substance=line.product.substance,
        substance_code=line.product.substance_code,
        substance_system=line.product.substance_system,
    )  # fmt: skip
    done = service.dispense(
        fetched, [LineDecision(line.number, Decision.SUBSTITUTED, product=generic)]
    )
    drained = runtime.outbox.run_until_idle(timeout=60)
    state = runtime.outbox.get(done.delivery.id).state
    ctx.record(
        ACTOR,
        _(
            "dispensed with a generic substitution on line {line}; "
            "the dispensation report is {state}"
        ).format(line=line.number, state=state),
        drained=drained, kind=DISPENSATION_KIND,
    )  # fmt: skip
    if done.edisp is not None:
        path = ctx.artefact(f"eDISP-MED_{p.id}.xml", done.edisp)
        ctx.record(ACTOR, _("eDISP-MED document written: {name}").format(name=path.name))
        ctx.data.setdefault("edisp", []).append(done.edisp)
