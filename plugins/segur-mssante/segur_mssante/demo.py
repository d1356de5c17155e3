"""Demo step (order 600): the counter's validated document is sent by MSSanté to a
physician and, with a qualified INS, to the patient's Mon Espace Santé mailbox, through
the outbox and the sandbox Dovecot; the pharmacy then fetches its mailbox, where the
delivery notifications update each message's status."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segur_core.plugin import DemoContext

__all__ = ["run_demo_step"]

ACTOR = "mss"


def run_demo_step(ctx: DemoContext) -> None:
    from segur_core.errors import SegurError
    from segur_mssante.service import service_for
    from segur_mssante.testing import DOCTOR_ADDRESS

    runtime = ctx.runtime
    documents = list(ctx.data.get("documents") or [])
    if not documents:
        ctx.record(ACTOR, "no validated document to send (segur-documents is not enabled)")
        return
    document = documents[0]
    patient = ctx.data.get("patient") or runtime.host.get_patient(document.patient_id)
    service = service_for(runtime)
    qualified = patient is not None and runtime.shareable_ins(patient) is not None
    try:
        queued = service.send_document(
            document.content,
            to=[DOCTOR_ADDRESS],
            patient=patient if qualified else None,
            end=qualified,
        )
        runtime.outbox.run_until_idle(timeout=60)
        state = runtime.outbox.get(queued.delivery.id).state
        ctx.record(
            ACTOR,
            f"{document.title or 'document'} sent by MSSanté to a physician"
            + (" and to the patient's Mon Espace Santé" if qualified else "")
            + f" (IHE_XDM.ZIP, STARTTLS, DSN asked): {state}",
            message_id=queued.message_id,
        )
        if not qualified:
            ctx.record(ACTOR, "no Mon Espace Santé address: the patient's INS is not qualified")
        outcomes = service.fetch()
        acks = [a for o in outcomes for a in o.acks]
        statuses = {row.recipient: row.state for row in service.status.of(queued.message_id)}
        ctx.record(
            ACTOR,
            f"the pharmacy's mailbox fetched: {len(outcomes)} message(s), "
            f"{len(acks)} delivery notification(s) applied",
            statuses=sorted(statuses.values()),
        )
    except SegurError as exc:
        ctx.record(ACTOR, f"MSSanté not available: {exc}")
