"""The ``[mss]`` table of ``segur.toml``.

Every field has a default so that the demo and the tests run without a file:
``server = "sandbox"`` means the local Dovecot sandbox, and outside production the
client certificate defaults to one of the runtime's test PKI.

.. code-block:: toml

    [mss]
    server = "mail.mssante.example.fr"   # SMTP submission (587) and IMAP (143), STARTTLS
    address = "pharmacie.dupont@pharmacie.mssante.fr"
    mailbox_type = "ORG"                  # PER, ORG (XOAUTH2, Pro Santé Connect) or APP
    nil = "DEV935997"                     # X-MSS-NIL: the software's declared reference
    max_message_mb = 25                   # the largest message sent or fetched (MiB)

    [mss.tls]
    client_cert = "/etc/segur/org-auth-cli.pem"   # IGC-Santé, for APP mailboxes
    client_key = "/etc/segur/org-auth-cli.key"
    ca_bundle = "/etc/segur/igc-sante.pem"
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

from typing import ClassVar

import attrs

from segur_core.errors import ConfigError
from segur_core.limits import positive
from segur_core.wire.tls import ClientTls, moved_tls_keys

__all__ = ["MAILBOX_TYPES", "SANDBOX", "MSSConfig"]

SANDBOX = "sandbox"

#: TRE_R256_TypeMessagerie: personal, organisational, application mailboxes.
MAILBOX_TYPES = ("PER", "ORG", "APP")


def _port(instance, attribute, value) -> None:
    if not 0 < value < 65536:
        raise ConfigError(f"must be a TCP port, got {value}", key=f"mss.{attribute.name}")


_positive = positive("mss")


def _mailbox_type(instance, attribute, value) -> None:
    if value not in MAILBOX_TYPES:
        raise ConfigError("must be PER, ORG or APP", key="mss.mailbox_type")


@attrs.frozen
class MSSConfig:
    """Settings of the segur-mssante plugin.

    ``server``: the operator's mail host (or ``"sandbox"``); ``smtp_port``/``imap_port``:
    submission and IMAP, both with STARTTLS. ``address``: this pharmacy's mailbox;
    ``mailbox_type``: ``PER``/``ORG`` authenticate by XOAUTH2 with a Pro Santé Connect
    token, ``APP`` by client certificate only. ``display_name``: the ``From`` display
    name (``Titre_Prénom_NOM_Entité``). ``nil``: the ``X-MSS-NIL`` product reference.
    ``dsn``: request delivery status notifications (RFC 3461). ``folder``: the IMAP folder
    fetched. ``tls``: the ``[mss.tls]`` table, the client certificate and the CAs of the
    server (:class:`~segur_core.wire.ClientTls`); the certificate is presented by
    application mailboxes only. ``source_id``: the software's OID in METADATA.XML
    (``XDSSubmissionSet.sourceId``). ``max_message_mb``: the largest message sent or
    fetched, as transmitted (MIME-encoded), in MiB — 25 by default, Mon Espace Santé's
    limit; a bigger one is refused before it is queued, or left unread on the server and
    flagged ``$SegurRejected``.
    """

    server: str = SANDBOX
    smtp_port: int = attrs.field(default=587, validator=_port)
    imap_port: int = attrs.field(default=143, validator=_port)
    address: str = "pharmacie@pharmacie.mssante.test"
    mailbox_type: str = attrs.field(default="APP", validator=_mailbox_type)
    display_name: str = ""
    tls: ClientTls = attrs.Factory(ClientTls)
    nil: str = "SEGUR-SANDBOX"
    source_id: str = "1.2.250.1.213.1.1.9.999"
    dsn: bool = True
    folder: str = "INBOX"
    timeout: float = attrs.field(default=30.0, validator=_positive)
    max_message_mb: float = attrs.field(default=25.0, validator=_positive)

    @property
    def max_message_bytes(self) -> int:
        """``max_message_mb`` in bytes."""
        return int(self.max_message_mb * 1024 * 1024)

    #: The TLS keys that moved to ``[mss.tls]`` (refused here with a hint).
    moved_keys: ClassVar[dict[str, str]] = moved_tls_keys("mss")
