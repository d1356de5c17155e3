"""The sandbox "MTA": an aiosmtpd server that the sandbox Dovecot's submission service
relays to. It keeps the DSN parameters (RFC 3461; aiosmtpd refuses them by default),
delivers through Dovecot's LMTP, and writes RFC 3464 delivery reports back to the sender
over LMTP: ``failed`` for an address of a refused domain (a bounce), ``delivered`` when
``NOTIFY=SUCCESS`` was asked.
"""

from __future__ import annotations

import functools
import re
import smtplib
import socket
import threading
import uuid
from email.message import Message
from email.parser import BytesParser
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate
from typing import Any

import attrs

from segur_core.model import hidden

__all__ = ["DSNRelay", "RelayedMessage"]

_MAIL_DSN = re.compile(r"\s+(RET|ENVID)=(\S+)", re.IGNORECASE)
_RCPT_DSN = re.compile(r"\s+(NOTIFY|ORCPT)=(\S+)", re.IGNORECASE)


@attrs.frozen
class RelayedMessage:
    """What the relay received: envelope, DSN parameters and the message bytes."""

    mail_from: str
    recipients: tuple[str, ...] = attrs.field(
        repr=hidden
    )  # a Mon Espace Santé address holds the INS
    mail_dsn: dict[str, str]
    rcpt_dsn: tuple[dict[str, str], ...]
    data: bytes = attrs.field(repr=hidden)


@functools.cache
def _dsn_smtp() -> type:
    """aiosmtpd's SMTP accepting ``RET``/``ENVID`` and ``NOTIFY``/``ORCPT`` (imported on
    first use: aiosmtpd comes with the ``sandbox`` extra)."""
    from aiosmtpd.smtp import SMTP

    class DSNSMTP(SMTP):
        async def smtp_MAIL(self, arg: str | None) -> None:
            params = {k.upper(): v for k, v in _MAIL_DSN.findall(arg or "")}
            await super().smtp_MAIL(_MAIL_DSN.sub("", arg) if arg else arg)
            if self.envelope is not None and self.envelope.mail_from is not None:
                self.envelope.dsn_mail = params
                self.envelope.dsn_rcpt = []

        async def smtp_RCPT(self, arg: str | None) -> None:
            params = {k.upper(): v for k, v in _RCPT_DSN.findall(arg or "")}
            before = len(self.envelope.rcpt_tos) if self.envelope is not None else 0
            await super().smtp_RCPT(_RCPT_DSN.sub("", arg) if arg else arg)
            if self.envelope is not None and len(self.envelope.rcpt_tos) > before:
                self.envelope.dsn_rcpt.append(params)

    return DSNSMTP


class _Handler:
    def __init__(self, relay: DSNRelay) -> None:
        self.relay = relay

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-DSN", responses[-1]]

    async def handle_DATA(self, server, session, envelope):
        message = RelayedMessage(
            envelope.mail_from,
            tuple(envelope.rcpt_tos),
            dict(getattr(envelope, "dsn_mail", {})),
            tuple(getattr(envelope, "dsn_rcpt", ())),
            envelope.original_content or envelope.content,
        )
        self.relay.deliver(message)
        return "250 2.0.0 OK queued"


class DSNRelay:
    """The relay on ``127.0.0.1:port``, delivering to Dovecot's LMTP at ``lmtp_port``.

    ``refused_domains``: recipients there bounce (``5.1.1``), like an unknown mailbox.
    ``received``: every message relayed, for the tests.
    """

    def __init__(
        self, lmtp_port: int, *, hostname: str = "mta.mssante.test", port: int = 0
    ) -> None:
        self.lmtp_port = lmtp_port
        self.hostname = hostname
        self.refused_domains: set[str] = {"inconnu.mssante.test"}
        self.received: list[RelayedMessage] = []
        self._lock = threading.Lock()
        from aiosmtpd.controller import Controller

        smtp_class: Any = _dsn_smtp()
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=port or _free_port(),  # aiosmtpd checks it is up by connecting to it
            server_hostname=hostname,
            ready_timeout=10,
        )
        self._controller.factory = lambda: smtp_class(  # type: ignore[method-assign]
            _Handler(self), hostname=hostname, decode_data=False
        )

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    # -- delivery ------------------------------------------------------------------------

    def deliver(self, message: RelayedMessage) -> None:
        with self._lock:
            self.received.append(message)
        delivered, failed = [], []
        for rcpt, dsn in zip(message.recipients, message.rcpt_dsn, strict=False):
            if rcpt.rpartition("@")[2].lower() in self.refused_domains:
                failed.append((rcpt, dsn))
                continue
            self._lmtp(message.mail_from, [rcpt], message.data)
            delivered.append((rcpt, dsn))
        for rcpt, dsn in failed:
            if _wants(dsn, "FAILURE"):
                self._report(message, rcpt, dsn, "failed", "5.1.1", "550 5.1.1 unknown mailbox")
        for rcpt, dsn in delivered:
            if _wants(dsn, "SUCCESS"):
                self._report(message, rcpt, dsn, "delivered", "2.0.0", "250 2.0.0 delivered")

    def _lmtp(self, sender: str, recipients: list[str], data: bytes) -> None:
        with smtplib.LMTP("127.0.0.1", self.lmtp_port) as lmtp:
            lmtp.sendmail(sender, recipients, data)

    def _report(
        self,
        message: RelayedMessage,
        rcpt: str,
        dsn: dict[str, str],
        action: str,
        status: str,
        diagnostic: str,
    ) -> None:
        """An RFC 3464 ``multipart/report`` to the sender, delivered by LMTP."""
        if not message.mail_from:
            return  # never report on a report
        original: Message = BytesParser(policy=SMTP_POLICY).parsebytes(message.data)
        boundary = f"=_report_{uuid.uuid4().hex}"
        failed = action == "failed"
        head = [
            f"From: Mail Delivery System <MAILER-DAEMON@{self.hostname}>",
            f"To: <{message.mail_from}>",
            f"Subject: Delivery Status Notification ({'Failure' if failed else 'Success'})",
            f"Date: {formatdate(localtime=False)}",
            f"Message-ID: <{uuid.uuid4()}@{self.hostname}>",
        ]
        if original["Message-ID"]:
            head += [f"In-Reply-To: {original['Message-ID']}"]
            head += [f"References: {original['Message-ID']}"]
        head += [
            "MIME-Version: 1.0",
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        ]
        per_message = [f"Reporting-MTA: dns; {self.hostname}"]
        if "ENVID" in message.mail_dsn:
            per_message.append(f"Original-Envelope-Id: {message.mail_dsn['ENVID']}")
        per_recipient = [f"Original-Recipient: {dsn['ORCPT']}"] if "ORCPT" in dsn else []
        per_recipient += [
            f"Final-Recipient: rfc822; {rcpt}",
            f"Action: {action}",
            f"Status: {status}",
            f"Diagnostic-Code: smtp; {diagnostic}",
        ]
        full = message.mail_dsn.get("RET", "HDRS").upper() == "FULL"
        returned = message.data if full else message.data.partition(b"\r\n\r\n")[0] + b"\r\n"
        text = f"Your message to {rcpt} was {'not ' if failed else ''}delivered."
        body = "\r\n".join(
            [
                f"--{boundary}",
                "Content-Type: text/plain; charset=utf-8",
                "",
                text,
                "",
                f"--{boundary}",
                "Content-Type: message/delivery-status",
                "",
                *per_message,
                "",
                *per_recipient,
                "",
                f"--{boundary}",
                f"Content-Type: {'message/rfc822' if full else 'text/rfc822-headers'}",
                "",
                "",
            ]
        ).encode()
        report = (
            "\r\n".join(head).encode() + b"\r\n\r\n" + body + returned
            + f"\r\n--{boundary}--\r\n".encode()
        )  # fmt: skip
        self._lmtp("", [message.mail_from], report)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wants(dsn: dict[str, str], kind: str) -> bool:
    """Whether ``NOTIFY`` asks for ``kind`` (failures are reported when NOTIFY is absent)."""
    notify = dsn.get("NOTIFY")
    if notify is None:
        return kind == "FAILURE"
    return kind in notify.upper().split(",")
