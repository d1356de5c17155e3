"""Test helpers shared by the plugin's tests, the demo and the cross-plugin tests: the
sandbox mailboxes."""

from __future__ import annotations

from typing import Any

__all__ = [
    "APP_ADDRESS",
    "DOCTOR_ADDRESS",
    "PER_ADDRESS",
    "UNKNOWN_DOMAIN",
    "photo_message",
    "sandbox_table",
    "send_as_patient",
]

#: The pharmacy's application mailbox (client certificate, EXTERNAL).
APP_ADDRESS = "app@pharmacie.mssante.test"
#: The pharmacist's personal mailbox (XOAUTH2 with a Pro Santé Connect token).
PER_ADDRESS = "claire.durand@pharmacie.mssante.test"
#: A physician's personal mailbox.
DOCTOR_ADDRESS = "jean.martin@medecin.mssante.test"
#: Recipients in this domain bounce (unknown mailbox) in the sandbox.
UNKNOWN_DOMAIN = "inconnu.mssante.test"


def sandbox_table(sandbox: Any, address: str, kind: str = "APP", **extra: Any) -> dict:
    """The ``[mss]`` table of a runtime using the running ``sandbox`` (a
    :class:`~segur_mssante.sandbox.MailSandbox`) as the mailbox ``address`` of type
    ``kind``, with the certificate of that address from the sandbox's test PKI."""
    from segur_mssante.sandbox.dovecot import app_credential

    credential = app_credential(sandbox.pki, address)
    return {
        "server": "127.0.0.1",
        "smtp_port": sandbox.submission_port,
        "imap_port": sandbox.imap_port,
        "address": address,
        "mailbox_type": kind,
        "tls": {
            "ca_bundle": str(sandbox.pki.ca_bundle),
            "client_cert": str(credential.cert_path),
            "client_key": str(credential.key_path),
        },
        **extra,
    }


def photo_message(sender: str, to: str, *, message_id: str) -> bytes:
    """What a patient's mail client sends the pharmacy: a line and a photo, no archive."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, "Mon ordonnance"
    message["Message-ID"] = message_id
    message["Disposition-Notification-To"] = sender
    message.set_content("Bonjour, voici mon ordonnance à préparer.\n")
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40
    message.add_attachment(photo, maintype="image", subtype="jpeg", filename="ordonnance.jpg")
    return message.as_bytes()


def send_as_patient(sandbox: Any, matricule: str, to: str, message_id: str) -> bytes:
    """Submit a patient's photo message through the sandbox's real submission service,
    authenticated (XOAUTH2) as the patient's Mon Espace Santé address."""
    from segur_core.tls import client_context
    from segur_mssante.sandbox.tokens import SandboxTokens
    from segur_mssante.transport import Mailbox, Server, smtp_session, submit

    sender = f"{matricule}@patient.mssante.fr"
    context = client_context(ca_bundle=sandbox.pki.ca_bundle)
    server = Server(
        sandbox.host, sandbox.submission_port, sandbox.imap_port,
        certificate=context, anonymous=context, timeout=10,
    )  # fmt: skip
    raw = photo_message(sender, to, message_id=message_id)
    with smtp_session(server, Mailbox(sender, "PER"), SandboxTokens(sandbox.tokens)) as smtp:
        submit(smtp, sender, [to], raw, dsn=False)
    return raw
