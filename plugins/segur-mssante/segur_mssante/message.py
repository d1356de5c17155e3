"""MSSanté messages: the RFC 5322 message of a structured send and its MSSanté parts.

Pure functions (no network, no runtime): the subject convention ``XDM/1.0/DDM+…``
(ECO.2.1.3), the ``X-MSS-*`` headers (reference ``mssante.md`` §6.2), the PDF rendering's
file name (ECO.2.1.6), the Mon Espace Santé address of a patient (ECO.2.2.6), message
ids (ECO.2.2.1), and :func:`build_message` which puts them together with the
``IHE_XDM.ZIP`` archive.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

import attrs

from segur_core.model import INS, hidden
from segur_core.xdm import ARCHIVE_NAME
from segur_mssante.errors import MessageError

__all__ = [
    "MES_DOMAIN",
    "Attachment",
    "Outgoing",
    "build_message",
    "message_id",
    "mss_headers",
    "patient_address",
    "pdf_name",
    "subject",
]

#: The domain of patients' Mon Espace Santé mailboxes.
MES_DOMAIN = "patient.mssante.fr"
SUBJECT_PREFIX = "XDM/1.0/DDM+"
REPLACE_MARK = "[Annule et remplace]"
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_MATRICULE = re.compile(r"^[0-9]{13}[0-9]{2}$|^[12][0-9]{4}(2A|2B|[0-9]{2})[0-9]{8}$")
_HEADER_SAFE = re.compile(r"[\r\n\x00]")


def _one_line(value: str) -> str:
    """A header value on one line: CR, LF and NUL become spaces, runs of blanks one."""
    return " ".join(_HEADER_SAFE.sub(" ", value).split())


def subject(
    label: str, family: str, given: str, birth_date: dt.date | None, *, replaces: bool = False
) -> str:
    """``XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance>`` (ECO.2.1.3); a new
    version of a document gains ``[Annule et remplace]`` after the prefix."""
    born = birth_date.strftime("%d/%m/%Y") if birth_date else ""
    parts = [_one_line(label), _one_line(family).upper(), _one_line(given), born]
    text = " ".join(p for p in parts if p)
    return SUBJECT_PREFIX + (f"{REPLACE_MARK} " if replaces else "") + text


def mss_headers(
    codes: Sequence[str], *, qualified_ins: bool | None, nil: str, end: bool = False
) -> list[tuple[str, str]]:
    """The ``X-MSS-*`` headers: ``X-MSS-CODECDA`` (the CDA codes, comma-separated) and
    ``X-MSS-INS`` (``O``/``N``) only when CDA documents are attached, ``X-MSS-NIL`` on
    every message, ``X-MSS-MES: FIN`` when the patient may not reply."""
    if not nil or _HEADER_SAFE.search(nil):
        raise MessageError("X-MSS-NIL needs the software's declared reference, on one line")
    headers: list[tuple[str, str]] = []
    cleaned = [_one_line(c) for c in codes if _one_line(c)]
    if cleaned:
        headers.append(("X-MSS-CODECDA", ",".join(cleaned)))
        headers.append(("X-MSS-INS", "O" if qualified_ins else "N"))
    headers.append(("X-MSS-NIL", nil))
    if end:
        headers.append(("X-MSS-MES", "FIN"))
    return headers


def _file_part(value: str) -> str:
    """A file-name component: ASCII letters, digits and ``-`` only."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9-]+", "-", ascii_text).strip("-") or "X"


def pdf_name(act_date: dt.date, document_type: str, family: str, given: str, record: str) -> str:
    """``<date acte>_<type document>_<NOM>_<prénom>_<n° dossier>.pdf`` (ECO.2.1.6)."""
    return (
        "_".join(
            [
                act_date.strftime("%Y%m%d"),
                _file_part(document_type),
                _file_part(family).upper(),
                _file_part(given),
                _file_part(record),
            ]
        )
        + ".pdf"
    )


def patient_address(ins: INS | None) -> str:
    """The patient's Mon Espace Santé address, ``<matricule>@patient.mssante.fr``.

    ``ins`` must be the patient's **qualified** INS (``runtime.shareable_ins(patient)``):
    ``None`` (no qualified INS) is refused with ``MessageError`` (ECO.2.2.6).
    """
    if ins is None:
        raise MessageError(
            "the patient has no qualified INS: no Mon Espace Santé address",
            hint="qualify the patient's identity (INSi) first",
        )
    if not _MATRICULE.match(ins.matricule):
        raise MessageError("the INS matricule is not 15 characters of a NIR or NIA")
    return f"{ins.matricule}@{MES_DOMAIN}"


def message_id(domain: str) -> str:
    """A new RFC 5322 ``Message-ID`` (``<uuid@domain>``)."""
    if not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        raise MessageError("a message id domain is a host name")
    return f"<{uuid.uuid4()}@{domain}>"


@attrs.frozen
class Attachment:
    """A file attached to a message."""

    filename: str
    content_type: str
    content: bytes = attrs.field(repr=lambda v: f"<{len(v)} bytes>")


@attrs.frozen
class Outgoing:
    """Everything a message is made of. ``sender_name`` is the ``From`` display name
    (``Titre_Prénom_NOM_Entité``, ECO.2.2.7); ``headers`` the ``X-MSS-*`` ones;
    ``read_receipt`` asks for an MDN (``Disposition-Notification-To``)."""

    message_id: str
    sender: str
    recipients: tuple[str, ...] = attrs.field(converter=tuple, repr=hidden)
    subject: str = attrs.field(repr=False)
    text: str = attrs.field(repr=False)
    attachments: tuple[Attachment, ...] = attrs.field(default=(), converter=tuple)
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=tuple)
    sender_name: str = ""
    in_reply_to: str | None = None
    references: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    read_receipt: bool = False
    date: dt.datetime | None = None


def _check_address(address: str) -> str:
    if not _ADDRESS.match(address):
        raise MessageError("not a mail address", hint="an MSSanté address is name@domain")
    return address


def build_message(outgoing: Outgoing) -> EmailMessage:
    """The RFC 5322 message: UTF-8 text, attachments, ids and MSSanté headers."""
    if not outgoing.recipients:
        raise MessageError("a message needs at least one recipient")
    sender = _check_address(outgoing.sender)
    for recipient in outgoing.recipients:
        _check_address(recipient)
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((_one_line(outgoing.sender_name), sender))
    message["To"] = ", ".join(outgoing.recipients)
    message["Subject"] = _one_line(outgoing.subject)
    message["Date"] = format_datetime(outgoing.date or dt.datetime.now(dt.UTC))
    message["Message-ID"] = outgoing.message_id
    if outgoing.in_reply_to:
        message["In-Reply-To"] = outgoing.in_reply_to
    if outgoing.references:
        message["References"] = " ".join(outgoing.references)
    if outgoing.read_receipt:
        message["Disposition-Notification-To"] = sender
    for name, value in outgoing.headers:
        message[name] = value
    message.set_content(outgoing.text, subtype="plain", charset="utf-8")
    for attachment in outgoing.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def archive_attachment(archive: bytes) -> Attachment:
    """The ``IHE_XDM.ZIP`` attachment."""
    return Attachment(ARCHIVE_NAME, "application/zip", archive)
