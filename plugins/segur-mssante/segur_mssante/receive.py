"""Receiving: what a received message holds, and the integration of its XDM archives.

:func:`parse_message` reads a received RFC 5322 message (malformed MIME is an
``MessageError``, never a crash) into a :class:`Received`; :func:`integrate_archive`
reads an ``IHE_XDM.ZIP`` safely, reads every CDA with segur-documents' reader, checks
that METADATA.XML and the CDA agree on the patient's INS and the document type, checks
each CDA against the test kit (segur-documents' validator: structure, XSD and the volet's
schematrons, as ``[documents]`` configures it), matches the patient by INS through the
host, stores each document with the kit's verdict (``HealthDocument.check``: a document
that fails the kit is kept all the same, the pharmacist decides) and announces it
(``on_document_received``), then keeps the PDF rendering of a structured one
(segur-documents' renderings). A new version ("annule et remplace": CDA
``relatedDocument`` RPLC) marks the version it replaces as replaced. A document already
stored is not stored or announced again, so a crash between storing and flagging the
message imports nothing twice. :func:`keep_message` keeps a message with no archive.
"""

from __future__ import annotations

import email
import hashlib
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import default
from typing import TYPE_CHECKING, Any

import attrs

from segur_core.model import (
    DocumentCheck,
    DocumentStatus,
    HealthDocument,
    MessagePart,
    Origin,
    ReceivedMessage,
)
from segur_core.xdm import read_xdm
from segur_mssante.errors import MessageError, MessageTooLarge, XDMError
from segur_mssante.message import MES_DOMAIN

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = [
    "IMPORTED",
    "UNKNOWN_PATIENT",
    "DocumentOutcome",
    "ImportReport",
    "Received",
    "integrate_archive",
    "keep_message",
    "message_key",
    "parse_message",
]

IMPORTED = "imported"
ALREADY = "already-imported"
UNKNOWN_PATIENT = "unknown-patient"
_ARCHIVE_NAMES = ("IHE_XDM.ZIP",)
#: The biggest message read (Mon Espace Santé: 25 MB; base64 adds a third).
MAX_MESSAGE_BYTES = 48 * 1024 * 1024


@attrs.frozen
class Received:
    """A received message: ids, sender, kind and its XDM archives and other files."""

    message_id: str | None
    sender: str | None
    subject: str = attrs.field(repr=False)
    kind: str  # "message", "dsn" (RFC 3464) or "mdn" (RFC 8098)
    archives: tuple[bytes, ...] = attrs.field(converter=tuple, repr=lambda v: f"<{len(v)}>")
    files: tuple[tuple[str, str, bytes], ...] = attrs.field(
        converter=tuple, repr=lambda v: f"<{len(v)}>"
    )
    in_reply_to: str | None = None
    read_receipt_to: str | None = None
    text: str = attrs.field(default="", repr=False)


def parse_message(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Received:
    """Read a received message; ``MessageError`` when it cannot be read as MIME,
    ``MessageTooLarge`` beyond ``max_bytes``."""
    if len(data) > max_bytes:
        raise MessageTooLarge(f"message larger than {max_bytes} bytes")
    try:
        message: EmailMessage = email.message_from_bytes(data, policy=default)  # type: ignore[assignment]
        content_type = message.get_content_type()
        report = message.get_param("report-type", header="content-type")
        kind = "message"
        if content_type == "multipart/report":
            kind = "mdn" if report == "disposition-notification" else "dsn"
        archives, files = [], []
        for part in message.walk():
            if part.is_multipart():
                continue
            name = part.get_filename()
            if not name or (part.get_content_disposition() == "inline" and not name):
                continue
            payload = part.get_payload(decode=True) or b""
            if name.upper() in _ARCHIVE_NAMES or (
                part.get_content_type() == "application/zip" and "XDM" in name.upper()
            ):
                archives.append(payload)
            else:
                files.append((name, part.get_content_type(), payload))
        return Received(
            message_id=_header(message, "Message-ID"),
            sender=_sender(message),
            subject=_header(message, "Subject") or "",
            kind=kind,
            archives=archives,
            files=files,
            in_reply_to=_header(message, "In-Reply-To"),
            read_receipt_to=_header(message, "Disposition-Notification-To"),
            text=_text(message),
        )
    except MessageError:
        raise
    except Exception as exc:  # the email package raises many things on broken MIME
        raise MessageError(f"malformed MIME message ({type(exc).__name__})") from None


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    if body is None or body.get_filename():
        return ""
    content = body.get_content()
    return content if isinstance(content, str) else ""


def _header(message: EmailMessage, name: str) -> str | None:
    value = message.get(name)
    return str(value).strip() if value is not None else None


def _sender(message: EmailMessage) -> str | None:
    header = message.get("From")
    addresses = getattr(header, "addresses", ()) if header is not None else ()
    return addresses[0].addr_spec if addresses else None


@attrs.frozen
class DocumentOutcome:
    """What became of one document: ``imported``, ``already-imported`` or
    ``unknown-patient``; ``patient_id`` is the host's, ``document_id`` the CDA id,
    ``check`` the test kit's verdict on it."""

    outcome: str
    document_id: str
    type_code: str
    patient_id: str | None = None
    check: DocumentCheck | None = None

    def kit(self) -> dict[str, Any] | None:
        """The kit's verdict in short, for ``--json``: valid, errors, what was skipped."""
        if self.check is None:
            return None
        return {
            "valid": self.check.valid,
            "errors": len(self.check.errors),
            "checks": list(self.check.checks),
            "skipped": list(self.check.skipped),
        }


@attrs.frozen
class ImportReport:
    """The outcome of one archive: its documents and the deviations tolerated."""

    documents: tuple[DocumentOutcome, ...] = attrs.field(converter=tuple)
    deviations: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    @property
    def complete(self) -> bool:
        """Every document is in the host (imported now or before)."""
        return all(d.outcome in (IMPORTED, ALREADY) for d in self.documents)


def integrate_archive(data: bytes, runtime: Runtime, origin: Origin) -> ImportReport:
    """Integrate a received ``IHE_XDM.ZIP`` (see the module docstring).

    Raises ``InputError`` subclasses (``UnsafeZipError``, ``UnsafeXMLError``,
    ``XDMError``, ``DocumentError``) for a hostile or invalid archive: nothing is stored.
    An unknown patient is an outcome, not an error.
    """
    from segur_documents.reader import read_cda
    from segur_documents.service import DocumentService

    kit = DocumentService(runtime).check
    archive = read_xdm(data)
    checked = []
    for document in archive.documents:  # check everything before storing anything
        cda = read_cda(document.content)
        cda_ins = cda.patient.ins if cda.patient is not None else None
        ins = document.ins or archive.ins
        if ins is None:
            raise XDMError("METADATA.XML identifies the patient by no INS (ECO.2.1.2)")
        if cda_ins is not None and (cda_ins.matricule, cda_ins.oid) != (ins.matricule, ins.oid):
            raise XDMError("the INS of METADATA.XML and of the CDA document differ")
        cda_type = cda.type.code if cda.type else ""
        if cda_type != document.type_code:
            raise XDMError("the document type of METADATA.XML and of the CDA differ")
        checked.append((document, cda, ins))
    outcomes = []
    for document, cda, ins in checked:
        outcomes.append(_store(runtime, document, cda, ins, origin, kit))
    return ImportReport(outcomes, archive.deviations)


def _store(
    runtime: Runtime,
    document: Any,
    cda: Any,
    ins: Any,
    origin: Origin,
    kit: Callable[[bytes], Any],
) -> DocumentOutcome:
    matches = runtime.host.find_patients(ins_matricule=ins.matricule)
    if len(matches) != 1:
        runtime.journal.record(
            "mss.document-unmatched",
            outcome="refused",
            service="mssante",
            actor="plugin:mss",
            details={"document": cda.id, "matches": len(matches), "message_id": origin.message_id},
        )
        check = kit(document.content).as_check()
        return DocumentOutcome(UNKNOWN_PATIENT, cda.id, document.type_code, None, check)
    patient = matches[0]
    existing = runtime.host.get_document(cda.id)
    if existing is not None and existing.patient_id == patient.id:
        _replace_previous(runtime, existing)  # again: a crash may have come in between
        return DocumentOutcome(ALREADY, cda.id, document.type_code, patient.id, existing.check)
    check = kit(document.content).as_check()
    received = attrs.evolve(cda.to_health_document(document.content, patient.id), check=check)
    if any(d.replaces == received.id for d in runtime.host.list_documents(patient.id)):
        # its new version came first: this one arrives already replaced
        received = attrs.evolve(received, status=DocumentStatus.REPLACED)
    stored = runtime.host.store_document(received)
    _replace_previous(runtime, stored)
    runtime.journal.record(
        "mss.document-received",
        outcome="stored",
        service="mssante",
        patient_id=patient.id,
        actor="plugin:mss",
        details={
            "document": cda.id,
            "message_id": origin.message_id,
            "type": document.type_code,
            "level": cda.level,
            "kit": "valid" if check.valid else "invalid",
            "kit_errors": len(check.errors),
            "kit_skipped": len(check.skipped),
        },
    )
    runtime.document_received(stored, origin)
    from segur_documents.renderings import keep_rendering

    keep_rendering(runtime, stored)  # a structured document's PDF, once, after the host has it
    return DocumentOutcome(IMPORTED, cda.id, document.type_code, patient.id, check)


def _replace_previous(runtime: Runtime, document: HealthDocument) -> None:
    """ "Annule et remplace": the version a received document replaces (its CDA
    ``relatedDocument`` RPLC), if the host has it for the same patient and series, is
    marked replaced."""
    if not document.replaces:
        return
    previous = runtime.host.get_document(document.replaces)
    if (
        previous is None
        or previous.patient_id != document.patient_id
        or (previous.set_id and document.set_id and previous.set_id != document.set_id)
        or previous.status is DocumentStatus.REPLACED
    ):
        return
    runtime.host.store_document(attrs.evolve(previous, status=DocumentStatus.REPLACED))
    runtime.journal.record(
        "mss.document-replaced",
        outcome="replaced",
        service="mssante",
        patient_id=document.patient_id,
        actor="plugin:mss",
        details={"document": previous.id, "by": document.id},
    )


def message_key(raw: bytes, received: Received) -> str:
    """The id a received message is kept under: the same message fetched again (or
    delivered twice) has the same id, from its ``Message-ID`` or, without one, its bytes."""
    basis = received.message_id.encode() if received.message_id else raw
    return "mss:" + hashlib.sha256(basis).hexdigest()[:40]


def keep_message(raw: bytes, received: Received, runtime: Runtime) -> tuple[str, bool]:
    """Keep a message that has no archive (a patient's photo of a prescription) through
    the host, as received; its patient is matched when the sender is a patient's Mon
    Espace Santé address. Returns its id and whether it was stored now (``False``: it
    already was, e.g. before a crash that left the message unflagged)."""
    key = message_key(raw, received)
    if runtime.host.get_message(key) is not None:
        return key, False
    patient_id = _patient_of(runtime, received.sender)
    parts = [MessagePart(name, media_type, content) for name, media_type, content in received.files]
    message = ReceivedMessage(
        id=key,
        channel="mssante",
        content=raw,
        sender=received.sender,
        subject=received.subject,
        text=received.text,
        parts=parts,
        message_id=received.message_id,
        patient_id=patient_id,
    )
    runtime.host.store_message(message)
    runtime.journal.record(
        "mss.message-kept",
        outcome="stored",
        service="mssante",
        patient_id=patient_id,
        actor="plugin:mss",
        details={
            "message": key,
            "message_id": received.message_id,
            "parts": sorted(part.media_type for part in parts),
            "patient_matched": patient_id is not None,
        },
    )
    return key, True


def _patient_of(runtime: Runtime, sender: str | None) -> str | None:
    """The host's patient whose Mon Espace Santé address sent the message, if one."""
    local, _, domain = (sender or "").rpartition("@")
    if domain.lower() != MES_DOMAIN or not local.isdigit():
        return None
    matches = runtime.host.find_patients(ins_matricule=local)
    return matches[0].id if len(matches) == 1 else None
