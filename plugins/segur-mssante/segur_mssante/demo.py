"""Demo step (order 600): the counter's validated document is sent by MSSanté to a
physician and, with a qualified INS, to the patient's Mon Espace Santé mailbox, through
the outbox and the sandbox Dovecot; the pharmacy then fetches its mailbox, where the
delivery notifications update each message's status. Then a physician's letter (the ANS
example archive ``LDL-SES_2022.01.zip`` from ``../shared/xdm``, when it is there) is sent
to the pharmacy and received: checked, matched to the patient by INS, integrated."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segur_mssante.i18n import _

if TYPE_CHECKING:
    from segur_core.plugin import DemoContext

__all__ = ["official_letter", "run_demo_step"]

ACTOR = "mss"
#: Where the ANS example archives are looked for (else ``../shared/xdm``).
XDM_ENV = "SEGUR_XDM_EXAMPLES"
LETTER = "LDL-SES_2022.01.zip"  # lettre de liaison à la sortie d'un établissement de santé


def official_letter() -> Path:
    """Where the official example letter is expected (it may be absent)."""
    folder = os.environ.get(XDM_ENV)
    if folder:
        return Path(folder) / LETTER
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base.parent / "shared" / "xdm" / LETTER
        if candidate.is_file():
            return candidate
    return Path.cwd().parent / "shared" / "xdm" / LETTER


def run_demo_step(ctx: DemoContext) -> None:
    from segur_core.errors import SegurError
    from segur_mssante.service import service_for
    from segur_mssante.testing import DOCTOR_ADDRESS

    runtime = ctx.runtime
    documents = list(ctx.data.get("documents") or [])
    if not documents:
        ctx.record(ACTOR, _("no validated document to send (segur-documents is not enabled)"))
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
            (
                _(
                    "{title} sent by MSSanté to a physician and to the patient's "
                    "Mon Espace Santé (IHE_XDM.ZIP, STARTTLS, DSN asked): {state}"
                )
                if qualified
                else _(
                    "{title} sent by MSSanté to a physician (IHE_XDM.ZIP, STARTTLS, "
                    "DSN asked): {state}"
                )
            ).format(title=document.title or _("document"), state=state),
            message_id=queued.message_id,
        )
        if not qualified:
            ctx.record(ACTOR, _("no Mon Espace Santé address: the patient's INS is not qualified"))
        outcomes = service.fetch()
        acks = [a for o in outcomes for a in o.acks]
        statuses = {row.recipient: row.state for row in service.status.of(queued.message_id)}
        ctx.record(
            ACTOR,
            _(
                "the pharmacy's mailbox fetched: {n} message(s), "
                "{acks} delivery notification(s) applied"
            ).format(n=len(outcomes), acks=len(acks)),
            statuses=sorted(statuses.values()),
        )
        receive_letter(ctx, service)
    except SegurError as exc:
        ctx.record(ACTOR, _("MSSanté not available: {error}").format(error=exc))


def receive_letter(ctx: DemoContext, service: Any) -> None:
    """A physician sends the official example letter to the pharmacy's mailbox; the
    pharmacy fetches it and integrates it (or says why the example is absent)."""
    from segur_mssante.message import Outgoing, archive_attachment, build_message, message_id
    from segur_mssante.sandbox.tokens import SandboxTokens
    from segur_mssante.testing import DOCTOR_ADDRESS
    from segur_mssante.transport import Mailbox, smtp_session, submit

    path = official_letter()
    if not path.is_file():
        ctx.record(
            ACTOR,
            _(
                "no physician's letter received: the ANS example archive {name} is not in "
                "{folder} (set {variable} to the folder of the official XDM examples)"
            ).format(name=LETTER, folder=path.parent, variable=XDM_ENV),
        )
        return
    _know_the_letters_patient(ctx, path.read_bytes())
    ident = message_id("medecin.mssante.test")
    outgoing = Outgoing(
        message_id=ident,
        sender=DOCTOR_ADDRESS,
        recipients=(service.mailbox.address,),
        subject="XDM/1.0/DDM+Lettre de liaison",
        text="Bonjour,\nLa lettre de liaison de votre patiente est dans l'archive.\n",
        attachments=(archive_attachment(path.read_bytes()),),
    )
    tokens = SandboxTokens(service.runtime.sandbox("mss").tokens)
    with smtp_session(service.server, Mailbox(DOCTOR_ADDRESS, "PER"), tokens) as smtp:
        submit(smtp, DOCTOR_ADDRESS, outgoing.recipients, build_message(outgoing).as_bytes())
    found = None
    deadline = time.monotonic() + 15
    while found is None and time.monotonic() < deadline:
        found = next((o for o in service.fetch() if o.message_id == ident), None)
    if found is None:
        ctx.record(ACTOR, _("the physician's letter did not arrive in the pharmacy's mailbox"))
        return
    documents = [d for report in found.reports for d in report.documents]
    for document in documents:
        kit = document.kit() or {}
        verdict = (
            _("valid")
            if kit.get("valid")
            else _("{n} error(s), kept").format(n=kit.get("errors", 0))
        ) + (_(" (partly checked)") if kit.get("skipped") else "")
        ctx.record(
            ACTOR,
            _(
                "a physician's letter received by MSSanté ({name}, document type "
                "{type}): {outcome}; CDA test kit: {verdict}"
            ).format(
                name=LETTER, type=document.type_code, outcome=document.outcome, verdict=verdict
            ),
            message_id=ident,
            flag=found.flag,
        )
    if not documents:
        ctx.record(
            ACTOR,
            _("the physician's letter was not integrated: {reason}").format(reason=found.reason),
        )


def _know_the_letters_patient(ctx: DemoContext, archive: bytes) -> None:
    """The letter is about the ANS examples' test person: the pharmacy knows her (she is
    saved in the host with her qualified INS, as the LGO would have her)."""
    import attrs
    from segur_documents.testing import sample_patient

    from segur_core.xdm import read_xdm

    runtime = ctx.runtime
    ins = read_xdm(archive).ins
    if ins is None or runtime.host.find_patients(ins_matricule=ins.matricule):
        return
    person = sample_patient(True)
    if person.identity.ins is None or person.identity.ins.matricule != ins.matricule:
        return
    runtime.host.save_patient(attrs.evolve(person, id=""))  # a new patient of this host
    ctx.record(ACTOR, _("the letter's patient (the ANS examples' person) is a patient here"))
