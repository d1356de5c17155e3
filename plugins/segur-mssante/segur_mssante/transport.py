"""SMTP submission and IMAP sessions with an MSSanté server: STARTTLS only (TLS ≥ 1.2
from :mod:`segur_core.tls`), then SASL XOAUTH2 with a Pro Santé Connect token (personal
and organisational mailboxes) or EXTERNAL after a client certificate (application
mailboxes). Failures become the plugin's typed errors; no token is kept after a session.
"""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import attrs

from segur_mssante.errors import MSSAuthError, MSSRefused, MSSTransportError
from segur_mssante.tokens import TokenProvider, xoauth2

__all__ = [
    "Mailbox",
    "Server",
    "close_smtp",
    "imap_session",
    "open_smtp",
    "smtp_session",
    "submit",
]

_NETWORK = (OSError, socket.timeout, ssl.SSLError, smtplib.SMTPServerDisconnected, EOFError)


@attrs.frozen
class Mailbox:
    """A mailbox of the pharmacy: its address and type (``PER``, ``ORG`` or ``APP``)."""

    address: str
    kind: str = "APP"

    @property
    def uses_certificate(self) -> bool:
        return self.kind == "APP"


@attrs.frozen
class Server:
    """An MSSanté server: host, ports, and the TLS contexts (``certificate`` presents the
    client certificate; ``anonymous`` only verifies the server)."""

    host: str
    smtp_port: int
    imap_port: int
    certificate: ssl.SSLContext = attrs.field(repr=False)
    anonymous: ssl.SSLContext = attrs.field(repr=False)
    timeout: float = 30.0

    def context(self, mailbox: Mailbox) -> ssl.SSLContext:
        return self.certificate if mailbox.uses_certificate else self.anonymous


def _smtp_auth(smtp: smtplib.SMTP, mailbox: Mailbox, tokens: TokenProvider | None) -> None:
    if mailbox.uses_certificate:
        code, _reply = smtp.docmd("AUTH", "EXTERNAL =")
        if code != 235:
            raise MSSAuthError(f"the server refused the certificate login ({code})")
        return
    if tokens is None:
        raise MSSAuthError("a Pro Santé Connect token provider is required for XOAUTH2")
    last = 0
    for attempt in range(2):
        token = tokens.token(mailbox.address) if attempt == 0 else tokens.refresh(mailbox.address)
        try:
            smtp.auth("XOAUTH2", lambda _=None, t=token: xoauth2(mailbox.address, t),
                      initial_response_ok=False)  # fmt: skip
            return
        except smtplib.SMTPAuthenticationError as exc:
            last = exc.smtp_code
    raise MSSAuthError(f"the server refused the Pro Santé Connect token ({last})")


def open_smtp(
    server: Server, mailbox: Mailbox, tokens: TokenProvider | None = None
) -> smtplib.SMTP:
    """An authenticated SMTP submission connection (STARTTLS first, always); close it
    with :func:`close_smtp`."""
    try:
        smtp = smtplib.SMTP(server.host, server.smtp_port, timeout=server.timeout)
    except _NETWORK as exc:
        raise MSSTransportError(f"cannot reach the mail server: {exc}") from None
    try:
        smtp.ehlo()
        if not smtp.has_extn("starttls"):
            raise MSSAuthError("the mail server does not offer STARTTLS: not sending")
        smtp.starttls(context=server.context(mailbox))
        smtp.ehlo()
        _smtp_auth(smtp, mailbox, tokens)
        smtp.ehlo()  # after login the server may offer more (Dovecot: the relay's DSN)
        return smtp
    except BaseException as exc:
        close_smtp(smtp)
        if isinstance(exc, _NETWORK):
            raise MSSTransportError(f"the mail server connection failed: {exc}") from None
        raise


def close_smtp(smtp: smtplib.SMTP) -> None:
    """QUIT, or just close when the connection is already gone."""
    try:
        smtp.quit()
    except Exception:
        smtp.close()


@contextmanager
def smtp_session(
    server: Server, mailbox: Mailbox, tokens: TokenProvider | None = None
) -> Iterator[smtplib.SMTP]:
    """An authenticated SMTP submission session, closed on exit."""
    smtp = open_smtp(server, mailbox, tokens)
    try:
        yield smtp
    except _NETWORK as exc:
        raise MSSTransportError(f"the mail server connection failed: {exc}") from None
    finally:
        close_smtp(smtp)


def submit(
    smtp: smtplib.SMTP,
    sender: str,
    recipients: Sequence[str],
    data: bytes,
    *,
    envelope_id: str | None = None,
    dsn: bool = True,
) -> None:
    """Submit ``data``; with ``dsn`` ask for delivery status notifications (RFC 3461:
    ``NOTIFY=SUCCESS,FAILURE,DELAY``, ``RET=HDRS``, ``ENVID``). A refused recipient or
    message is :class:`MSSRefused` (5xx) or :class:`MSSTransportError` (4xx)."""
    mail_options: list[str] = []
    rcpt_options: list[str] = []
    if dsn and smtp.has_extn("dsn"):
        mail_options = ["RET=HDRS"] + ([f"ENVID={envelope_id}"] if envelope_id else [])
        rcpt_options = ["NOTIFY=SUCCESS,FAILURE,DELAY"]
    try:
        refused = smtp.sendmail(
            sender, list(recipients), data, mail_options=mail_options, rcpt_options=rcpt_options
        )
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        _raise_for(min(codes), "every recipient was refused")
    except smtplib.SMTPResponseException as exc:
        _raise_for(exc.smtp_code, "the message was refused")
    if refused:
        codes = [code for code, _ in refused.values()]
        _raise_for(min(codes), f"{len(refused)} recipient(s) refused")


def _raise_for(code: int, what: str) -> None:
    if 400 <= code < 500:
        raise MSSTransportError(f"{what} for now ({code})", code=str(code))
    raise MSSRefused(f"{what} ({code})", code=str(code))


def _imap_auth(imap: imaplib.IMAP4, mailbox: Mailbox, tokens: TokenProvider | None) -> None:
    if mailbox.uses_certificate:
        try:
            imap.authenticate("EXTERNAL", lambda _: b"")
        except imaplib.IMAP4.error:
            raise MSSAuthError("the server refused the certificate login") from None
        return
    if tokens is None:
        raise MSSAuthError("a Pro Santé Connect token provider is required for XOAUTH2")
    token = tokens.token(mailbox.address)
    for attempt in range(2):
        try:
            imap.authenticate("XOAUTH2", lambda _, t=token: xoauth2(mailbox.address, t).encode())
            return
        except imaplib.IMAP4.error:
            if attempt == 0:
                token = tokens.refresh(mailbox.address)
    raise MSSAuthError("the server refused the Pro Santé Connect token")


@contextmanager
def imap_session(
    server: Server, mailbox: Mailbox, tokens: TokenProvider | None = None
) -> Iterator[imaplib.IMAP4]:
    """An authenticated IMAP session (STARTTLS first, always)."""
    try:
        imap = imaplib.IMAP4(server.host, server.imap_port, timeout=server.timeout)
    except _NETWORK as exc:
        raise MSSTransportError(f"cannot reach the mail server: {exc}") from None
    try:
        imap.starttls(server.context(mailbox))
        _imap_auth(imap, mailbox, tokens)
        yield imap
    except (*_NETWORK, imaplib.IMAP4.abort) as exc:
        raise MSSTransportError(f"the mail server connection failed: {exc}") from None
    finally:
        try:
            imap.logout()
        except Exception:
            imap.shutdown()
