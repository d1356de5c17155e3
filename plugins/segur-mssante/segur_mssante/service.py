"""The MSSanté service of a runtime: sends documents through the outbox and delivers
them by SMTP submission.

Sending builds the whole message once (ids, archive, headers) and queues its bytes
under its ``Message-ID``: queuing again is harmless, a retry resends the very same
message, and a refusal (5xx, bounce) is an outcome, not a retry loop.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import smtplib
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from segur_core.cdaheader import CdaHeader, read_header
from segur_core.model import Origin
from segur_core.xdm import Issuer, write_xdm
from segur_mssante.acks import Ack, StatusStore, read_acks
from segur_mssante.config import SANDBOX, MSSConfig
from segur_mssante.errors import MessageError, MessageTooLarge, MSSTransportError
from segur_mssante.mdn import ARCHIVE_REFUSED, PATIENT_UNKNOWN, build_mdn
from segur_mssante.message import (
    Attachment,
    Outgoing,
    archive_attachment,
    build_message,
    message_id,
    mss_headers,
    patient_address,
    pdf_name,
    subject,
)
from segur_mssante.receive import (
    ImportReport,
    Received,
    integrate_archive,
    keep_message,
    parse_message,
)
from segur_mssante.tokens import TokenProvider
from segur_mssante.transport import Mailbox, Server, close_smtp, imap_session, open_smtp, submit

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["SEND_KIND", "FetchOutcome", "MSSService", "Queued", "service_for"]

SEND_KIND = "mss.send"
NAME = "mss"
_STRUCT_IDNAT = "1.2.250.1.71.4.2.2"


@attrs.frozen
class Queued:
    """A message queued for sending: its id and outbox delivery."""

    message_id: str
    delivery: Any = attrs.field(repr=False)
    recipients: tuple[str, ...] = attrs.field(converter=tuple, repr=False)


def service_for(runtime: Runtime) -> MSSService:
    """The runtime's MSSanté service (one per runtime, closed with it)."""
    return runtime.service(NAME, lambda: MSSService(runtime))


def _pack(
    sender: str, recipients: Sequence[str], envelope_id: str, data: bytes, *, dsn: bool = True
) -> bytes:
    head = json.dumps({"from": sender, "to": list(recipients), "envid": envelope_id, "dsn": dsn})
    return head.encode() + b"\n" + data


def _unpack(payload: bytes) -> tuple[dict[str, Any], bytes]:
    head, _, data = payload.partition(b"\n")
    return json.loads(head), data


def _birth_date(value: str | None) -> dt.date | None:
    try:
        return dt.datetime.strptime(value[:8], "%Y%m%d").date() if value else None
    except ValueError:
        return None


class MSSService:
    """Sends (and, later, receives) on the configured mailbox. ``tokens`` is the Pro
    Santé Connect token provider of personal and organisational mailboxes (the host's
    session; the sandbox's stand-in by default with ``server = "sandbox"``)."""

    def __init__(self, runtime: Runtime, *, tokens: TokenProvider | None = None) -> None:
        self.runtime = runtime
        self.config: MSSConfig = runtime.plugin_config(NAME)
        self.mailbox = Mailbox(self.config.address, self.config.mailbox_type)
        self._tokens = tokens
        self._server: Server | None = None
        self._status: StatusStore | None = None
        self._local = threading.local()
        self._sessions: set[smtplib.SMTP] = set()
        self._sessions_lock = threading.Lock()
        #: SMTP logins made by :meth:`deliver` (one per sending thread while it lasts)
        self.logins = 0

    @property
    def status(self) -> StatusStore:
        """Per-recipient status of the messages sent (DSN and MDN applied)."""
        if self._status is None:
            self._status = StatusStore(self.runtime.data_dir / "mss-status.sqlite")
        return self._status

    # -- connection ----------------------------------------------------------------------

    def _sandbox(self) -> Any:
        return self.runtime.sandbox(NAME)

    @property
    def tokens(self) -> TokenProvider | None:
        if self._tokens is None and self.config.server == SANDBOX:
            from segur_mssante.sandbox.tokens import SandboxTokens

            self._tokens = SandboxTokens(self._sandbox().tokens)
        return self._tokens

    @tokens.setter
    def tokens(self, provider: TokenProvider) -> None:
        self._tokens = provider

    @property
    def server(self) -> Server:
        if self._server is None:
            self._server = self._make_server()
        return self._server

    def _make_server(self) -> Server:
        from segur_core.connection import client_tls_settings
        from segur_core.tls import client_context

        config = self.config
        address = config.address

        def credential(pki: Any) -> Any:
            from segur_mssante.sandbox.dovecot import app_credential

            return app_credential(pki, address)

        settings = client_tls_settings(
            config.tls, self.runtime, key="mss.tls", default_credential=credential,
            default_form="pem",
        )  # fmt: skip
        if config.server == SANDBOX:
            box = self._sandbox()
            host, smtp_port, imap_port = box.host, box.submission_port, box.imap_port
        else:
            host, smtp_port, imap_port = config.server, config.smtp_port, config.imap_port
        return Server(
            host, smtp_port, imap_port,
            certificate=settings.context(),
            anonymous=client_context(ca_bundle=settings.ca_bundle),
            timeout=config.timeout,
        )  # fmt: skip

    # -- sending -------------------------------------------------------------------------

    def send_document(
        self,
        cda: bytes,
        *,
        to: Sequence[str] = (),
        patient: Any = None,
        pdf: bytes | None = None,
        text: str = "",
        read_receipt: bool = False,
        end: bool = False,
        replaces: str | None = None,
    ) -> Queued:
        """Queue the CDA document ``cda`` for ``to`` and, with ``patient``, for the
        patient's Mon Espace Santé mailbox (only from a qualified INS). ``replaces``: the
        ``Message-ID`` of the message this new version annuls and replaces."""
        header = read_header(cda)
        recipients = list(to)
        qualified = None
        if patient is not None:
            qualified = self.runtime.shareable_ins(patient)
            recipients.append(patient_address(qualified))
        if not recipients:
            raise MessageError("a message needs at least one recipient")
        qualified_ins = (
            qualified is not None
            if patient is not None
            else (header.patient is not None and header.patient.ins is not None)
        )
        ident = message_id(self.mailbox.address.rpartition("@")[2])
        outgoing = Outgoing(
            message_id=ident,
            sender=self.mailbox.address,
            sender_name=self.config.display_name,
            recipients=tuple(recipients),
            subject=self._subject(header, replaces=replaces is not None),
            text=text or _default_text(header),
            attachments=self._attachments(cda, header, pdf, patient),
            headers=mss_headers(
                [header.code.code] if header.code else [],
                qualified_ins=qualified_ins,
                nil=self.config.nil,
                end=end,
            ),
            in_reply_to=replaces,
            references=(replaces,) if replaces else (),
            read_receipt=read_receipt,
        )
        data = build_message(outgoing).as_bytes()
        self._check_size(len(data))
        payload = _pack(self.mailbox.address, recipients, ident.strip("<>"), data)
        document_id = header.id.value if header.id is not None else None
        patient_id = getattr(patient, "id", None) or self._patient_of(document_id)
        self.status.queued(ident, recipients)
        delivery = self.runtime.outbox.enqueue(SEND_KIND, ident, payload, patient_id=patient_id)
        self.runtime.journal.record(
            "mss.send-queued",
            outcome="queued",
            service="mssante",
            patient_id=patient_id,
            actor=f"plugin:{NAME}",
            details={
                "message_id": ident,
                "recipients": len(recipients),
                "document_type": header.code.code if header.code else None,
                "document": document_id,
            },
        )
        return Queued(ident, delivery, recipients)

    def _patient_of(self, document_id: str | None) -> str | None:
        """The host's patient of the document sent, so that a message to professionals
        only is journaled with its patient (and exported with their data)."""
        stored = self.runtime.host.get_document(document_id) if document_id else None
        return stored.patient_id if stored is not None else None

    def _check_size(self, size: int) -> None:
        limit = self.config.max_message_bytes
        if size > limit:
            raise MessageTooLarge(
                f"the message is {size / 1048576:.1f} MiB, over the limit of "
                f"{self.config.max_message_mb:g} MiB per message: it was not sent",
                hint="send the PDF rendering apart, or raise [mss] max_message_mb if the "
                "operator accepts larger messages",
            )

    def _subject(self, header: CdaHeader, *, replaces: bool) -> str:
        target = header.patient
        label = header.title or (header.code.display if header.code else None) or "Document"
        return subject(
            label,
            (target.birth_name or "") if target else "",
            (target.first_name or "") if target else "",
            _birth_date(target.birth_time) if target else None,
            replaces=replaces,
        )

    def _attachments(
        self, cda: bytes, header: CdaHeader, pdf: bytes | None, patient: Any
    ) -> list[Attachment]:
        author = header.authors[0].organization if header.authors else None
        org = author or header.custodian
        issuer = Issuer(
            struct_id=(org.extension(_STRUCT_IDNAT) if org else None) or "",
            struct_name=(org.name if org else None) or "",
            software="segur",
        )
        archive = write_xdm([cda], issuer=issuer, source_id=self.config.source_id)
        attachments = [archive_attachment(archive)]
        if pdf is not None:
            target = header.patient
            act = _birth_date(header.effective_time) or dt.date.today()
            name = pdf_name(
                act,
                (header.code.display or header.code.code) if header.code else "document",
                (target.birth_name or "") if target else "",
                (target.first_name or "") if target else "",
                getattr(patient, "id", None) or "",
            )
            attachments.append(Attachment(name, "application/pdf", pdf))
        return attachments

    def deliver(self, item: Any) -> str:
        """The outbox sender of ``mss.send``: submit the queued message (DSN asked) on
        this thread's open session, opened on first use and once more if the server
        dropped it (a dropped connection happens before the message is accepted)."""
        envelope, data = _unpack(item.payload)
        for attempt in range(2):
            smtp = self._smtp()
            try:
                submit(
                    smtp, envelope["from"], envelope["to"], data,
                    envelope_id=envelope["envid"],
                    dsn=self.config.dsn and envelope.get("dsn", True),
                )  # fmt: skip
                return "submitted"
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._drop_smtp()
                if attempt:
                    raise MSSTransportError(f"the mail server connection failed: {exc}") from None
            except BaseException:
                self._drop_smtp()  # a refusal leaves the session usable, but be plain
                raise
        raise AssertionError("unreachable")

    def _smtp(self) -> smtplib.SMTP:
        smtp = getattr(self._local, "smtp", None)
        if smtp is None:
            smtp = open_smtp(self.server, self.mailbox, self.tokens)
            self._local.smtp = smtp
            with self._sessions_lock:
                self._sessions.add(smtp)
            self.logins += 1
        return smtp

    def _drop_smtp(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            with self._sessions_lock:
                self._sessions.discard(smtp)
            close_smtp(smtp)

    # -- receiving -----------------------------------------------------------------------

    def import_archive(self, data: bytes, *, sender: str | None = None) -> ImportReport:
        """Integrate an ``IHE_XDM.ZIP`` received another way (``segur mss import``): the
        same checks and patient matching as a fetched message."""
        return integrate_archive(data, self.runtime, Origin("mssante", sender, None))

    def fetch(self) -> list[FetchOutcome]:
        """Fetch the messages not yet handled in the configured folder, integrate their
        archives and flag each one (``$SegurImported``, ``$SegurUnmatched``,
        ``$SegurRejected`` or ``$SegurSeen``) so that it is never handled twice."""
        outcomes = []
        with imap_session(self.server, self.mailbox, self.tokens) as imap:
            status, _ = imap.select(self.config.folder)
            if status != "OK":
                raise MessageError(f"cannot open the folder {self.config.folder!r}")
            query = " ".join(f"UNKEYWORD {flag}" for flag in FLAGS)
            status, found = imap.uid("SEARCH", None, f"({query})")
            for uid in (found[0] or b"").split() if status == "OK" else []:
                size = _size(imap.uid("FETCH", uid, "(RFC822.SIZE)"))
                if size is not None and size > self.config.max_message_bytes:
                    outcome = self._too_large(size)
                    imap.uid("STORE", uid, "+FLAGS", f"({outcome.flag})")
                    outcomes.append(outcome)
                    continue
                status, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((item[1] for item in data if isinstance(item, tuple)), None)
                if status != "OK" or raw is None:
                    continue
                outcome = self._handle(raw)
                imap.uid("STORE", uid, "+FLAGS", f"({outcome.flag})")
                outcomes.append(outcome)
        return outcomes

    def _too_large(self, size: int) -> FetchOutcome:
        """A message over the limit is not downloaded: flagged rejected, journaled; it
        stays on the server for the pharmacist to read in the operator's webmail."""
        reason = (
            f"message of {size / 1048576:.1f} MiB, over the limit of "
            f"{self.config.max_message_mb:g} MiB: not fetched"
        )
        self.runtime.journal.record(
            "mss.message-rejected", outcome="refused", service="mssante",
            actor=f"plugin:{NAME}", details={"message_id": None, "reason": reason, "size": size},
        )  # fmt: skip
        return FetchOutcome(None, REJECTED, (), reason)

    def _handle(self, raw: bytes) -> FetchOutcome:
        from segur_core.errors import InputError

        try:
            received = parse_message(raw, max_bytes=self.config.max_message_bytes)
        except MessageError as exc:
            return FetchOutcome(None, REJECTED, (), str(exc))
        if received.kind in ("dsn", "mdn"):
            applied = [ack for ack in read_acks(raw) if self.status.apply(ack)]
            return FetchOutcome(received.message_id, SEEN, (), received.kind, tuple(applied))
        if not received.archives:  # a patient's photo of a prescription, a plain letter...
            key, new = keep_message(raw, received, self.runtime)
            self._answer(raw, received, None)
            reason = "kept (no archive)" if new else "already kept (no archive)"
            return FetchOutcome(received.message_id, IMPORTED_FLAG, (), reason, kept=key)
        origin = Origin("mssante", received.sender, received.message_id)
        reports = []
        try:
            for archive in received.archives:
                reports.append(integrate_archive(archive, self.runtime, origin))
        except InputError as exc:
            self.runtime.journal.record(
                "mss.message-rejected", outcome="refused", service="mssante",
                actor=f"plugin:{NAME}",
                details={"message_id": received.message_id, "reason": exc.message[:200]},
            )  # fmt: skip
            self._answer(raw, received, ARCHIVE_REFUSED)
            return FetchOutcome(received.message_id, REJECTED, tuple(reports), exc.message)
        complete = all(r.complete for r in reports)
        self._answer(raw, received, None if complete else PATIENT_UNKNOWN)
        return FetchOutcome(
            received.message_id, IMPORTED_FLAG if complete else UNMATCHED, tuple(reports)
        )

    def _answer(self, raw: bytes, received: Received, error: tuple[str, str] | None) -> None:
        """Queue the read receipt the sender asked for (once per message: the outbox key
        is the original's id, so fetching again after a crash queues nothing more)."""
        if not received.read_receipt_to or not received.message_id:
            return
        ident = message_id(self.mailbox.address.rpartition("@")[2])
        data = build_mdn(
            raw, reporter=self.mailbox.address, recipient=received.read_receipt_to,
            original_id=received.message_id, subject=received.subject, message_id=ident,
            error=error,
        )  # fmt: skip
        payload = _pack(
            self.mailbox.address, [received.read_receipt_to], ident.strip("<>"), data, dsn=False
        )
        self.runtime.outbox.enqueue(SEND_KIND, f"mdn:{received.message_id}", payload)

    def close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, set()
        for smtp in sessions:
            close_smtp(smtp)
        self._server = None
        if self._status is not None:
            self._status.close()
            self._status = None


IMPORTED_FLAG = "$SegurImported"
UNMATCHED = "$SegurUnmatched"
REJECTED = "$SegurRejected"
SEEN = "$SegurSeen"
FLAGS = (IMPORTED_FLAG, UNMATCHED, REJECTED, SEEN)


@attrs.frozen
class FetchOutcome:
    """What a fetched message became: its id, the flag set on it, the archives'
    reports and, for a rejected or skipped message, why; ``kept`` the id under which the
    host keeps a message that had no archive (``ReceivedMessage.id``)."""

    message_id: str | None
    flag: str
    reports: tuple[ImportReport, ...] = ()
    reason: str = ""
    acks: tuple[Ack, ...] = ()
    kept: str | None = None


def _size(answer: tuple[str, list[Any]]) -> int | None:
    """The ``RFC822.SIZE`` of an IMAP ``FETCH`` answer, or None."""
    status, items = answer
    for item in items if status == "OK" else []:
        text = item[0] if isinstance(item, tuple) else item
        if isinstance(text, bytes) and (found := _SIZE.search(text)):
            return int(found.group(1))
    return None


_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def _default_text(header: CdaHeader) -> str:
    title = header.title or "un document"
    return (
        f"Bonjour,\n\nVeuillez trouver ci-joint : {title}.\n"
        "Le document structuré est dans l'archive IHE_XDM.ZIP.\n"
    )
