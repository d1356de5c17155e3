"""Read receipts this pharmacy returns (RFC 8098, ECO.2.3.6), in the ANS form
(``struct-msg-mdn.md``): a ``multipart/report`` with a human-readable part, the
``message/disposition-notification`` part (``processed``, or ``processed/Error:
<code>^<libellé>`` when integration failed) and the original message; on error the
subject is prefixed ``[KO Intégration système !][code]``.

The error codes are ours (the ANS list is not public): ``1`` unreadable or refused
archive, ``2`` patient not identified.
"""

from __future__ import annotations

import datetime as dt
import uuid
from email.header import Header
from email.utils import format_datetime

__all__ = ["ARCHIVE_REFUSED", "PATIENT_UNKNOWN", "build_mdn"]

ARCHIVE_REFUSED = ("1", "Archive IHE_XDM illisible ou refusee")
PATIENT_UNKNOWN = ("2", "Patient non identifie")


def _clean(value: str | None) -> str:
    return " ".join((value or "").replace("\r", " ").replace("\n", " ").split())


def build_mdn(
    original: bytes,
    *,
    reporter: str,
    recipient: str,
    original_id: str | None,
    subject: str,
    message_id: str,
    error: tuple[str, str] | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """The MDN of ``original`` (raw bytes) from ``reporter`` to ``recipient``."""
    boundary = f"=_mdn_{uuid.uuid4().hex}"
    disposition = "automatic-action/MDN-sent-automatically; processed"
    title = _clean(subject)
    if error is not None:
        disposition += f"/Error: {error[0]}^{error[1]}"
        title = f"[KO Intégration système !][{error[0]}]{title}"
    text = (
        "Le message a été intégré."
        if error is None
        else f"Le message n'a pas pu être intégré : {error[1]}."
    )
    head = [
        f"From: <{reporter}>",
        f"To: <{recipient}>",
        f"Subject: {Header(title, 'utf-8').encode()}",
        f"Date: {format_datetime(now or dt.datetime.now(dt.UTC))}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=disposition-notification;"
        f' boundary="{boundary}"',
    ]
    if original_id:
        head += [f"In-Reply-To: {original_id}", f"References: {original_id}"]
    notification = [
        "Reporting-UA: segur",
        f"Final-Recipient: rfc822; {reporter}",
        *([f"Original-Message-ID: {original_id}"] if original_id else []),
        f"Disposition: {disposition}",
    ]
    body = "\r\n".join(
        [
            f"--{boundary}",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
            text,
            f"--{boundary}",
            "Content-Type: message/disposition-notification",
            "",
            *notification,
            "",
            f"--{boundary}",
            "Content-Type: message/rfc822",
            "",
            "",
        ]
    )
    return (
        "\r\n".join(head).encode() + b"\r\n\r\n" + body.encode("utf-8")
        + original.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        + f"\r\n--{boundary}--\r\n".encode()
    )  # fmt: skip
