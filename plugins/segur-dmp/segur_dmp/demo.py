"""Demo step (order 500): the counter's validated documents reach the sandbox DMP through
the outbox and are listed back from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segur_core.plugin import DemoContext

__all__ = ["run_demo_step"]

ACTOR = "dmp"


def run_demo_step(ctx: DemoContext) -> None:
    from segur_core.model import Consent
    from segur_dmp.errors import AccessRefused
    from segur_dmp.i18n import _
    from segur_dmp.service import CONSENT_PURPOSE, FEED_KIND, service_for

    runtime = ctx.runtime
    documents = list(ctx.data.get("documents") or [])
    if not documents:
        ctx.record(ACTOR, _("no validated document to send (segur-documents is not enabled)"))
        return
    service = service_for(runtime)
    patient = ctx.data.get("patient")
    for doc in documents:
        # None: the service looks the patient up in the host (NO_PATIENT when unknown)
        owner = patient if patient is not None and patient.id == doc.patient_id else None
        try:
            service.enqueue(doc, owner)  # idempotent: on_document_validated queued it already
        except AccessRefused as exc:
            service.feed_skipped(doc, doc.patient_id, exc)
            ctx.record(ACTOR, _("document not sent: {error}").format(error=exc))
            return
    drained = runtime.outbox.run_until_idle(timeout=60)
    states = [runtime.outbox.find(doc.id) for doc in documents]
    delivered = sum(1 for d in states if d is not None and d.state == "delivered")
    ctx.record(
        ACTOR,
        _(
            "{done}/{n} document(s) fed to the DMP (ITI-41, signed submission set) "
            "through the outbox"
        ).format(done=delivered, n=len(documents)),
        drained=drained,
        kind=FEED_KIND,
    )
    patient_id = documents[0].patient_id
    if runtime.host.consent(patient_id, CONSENT_PURPOSE) is None:
        runtime.host.record_consent(
            Consent(patient_id, CONSENT_PURPOSE, True, recorded_by="demo", note="patient informed")
        )
        ctx.record(ACTOR, _("the pharmacist recorded the patient's consent to access the DMP"))
    try:
        entries = service.list(patient_id)
    except AccessRefused as exc:
        ctx.record(ACTOR, _("DMP consultation refused: {error}").format(error=exc))
        return
    ids = {doc.id for doc in documents}
    back = [e for e in entries if e.unique_id in ids]
    ctx.record(
        ACTOR,
        _("listed back from the DMP (ITI-18): {ours} of ours, {n} in total").format(
            ours=len(back), n=len(entries)
        ),
        titles=[e.title for e in back],
    )
    ctx.data["dmp_entries"] = entries
