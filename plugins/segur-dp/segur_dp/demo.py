"""Demo step (order 750): the patient consents, their DP is opened, the counter's
dispensation is written into it through the outbox, the history is read back (the Ségur
year of depth), and the sandbox's alert and recall are acknowledged."""

from __future__ import annotations

from typing import Any

__all__ = ["run_demo_step"]

ACTOR = "dp"


def run_demo_step(ctx: Any) -> None:
    from segur_core.errors import SegurError
    from segur_core.model import Dispensation, utcnow
    from segur_dp.i18n import _, ngettext
    from segur_dp.service import service_for

    runtime = ctx.runtime
    patient = ctx.data.get("patient")
    if patient is None:
        ctx.record(ACTOR, _("no identified patient: nothing to show in the DP"))
        return
    service = service_for(runtime)
    try:
        outcomes = service.alerts()
        for o in outcomes:
            ctx.record(ACTOR, _("{kind} {id} acknowledged by the pharmacist: {title}").format(
                kind=o.alert.kind.value, id=o.alert.id, title=o.alert.title,
            ), acknowledged=o.acknowledged)  # fmt: skip
        key = service.patient(patient.id)
        service.record_consent(patient.id, True, by="demo")
        dossier = service.create(patient.id)
        ctx.record(ACTOR, _("DP: {status} with the patient's consent (NDP returned)").format(
            status=dossier.status), rank=key.rank)  # fmt: skip
        dispensations = list(ctx.data.get("dispensations") or []) or [
            Dispensation(patient.id, utcnow(), "3400936403114", "DOLIPRANE 1000 mg cp", 2)
        ]
        for dispensation in dispensations:
            service.record(dispensation)
        runtime.outbox.run_until_idle(timeout=60)
        lines = service.history(patient.id, ndp=dossier.ndp)  # by the NDP the host keeps
    except SegurError as exc:
        ctx.record(ACTOR, _("DP not available: {error}").format(error=exc))
        return
    ctx.record(
        ACTOR,
        ngettext(
            "DP history after the dispensation, read by NDP: {n} line, "
            "{months} months for ordinary medicines",
            "DP history after the dispensation, read by NDP: {n} lines, "
            "{months} months for ordinary medicines",
            len(lines),
        ).format(n=len(lines), months=service.config.depth.ordinary),
        products=[line.product_code for line in lines],
    )
    ctx.data["dp_history"] = lines
