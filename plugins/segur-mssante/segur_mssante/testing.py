"""Test helpers shared by the plugin's tests, the demo and the cross-plugin tests: the
sandbox mailboxes."""

from __future__ import annotations

from typing import Any

__all__ = [
    "APP_ADDRESS",
    "DOCTOR_ADDRESS",
    "PER_ADDRESS",
    "UNKNOWN_DOMAIN",
    "sandbox_table",
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
