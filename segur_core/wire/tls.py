"""The client TLS settings every national-service plugin embeds in its config table.

:class:`ClientTls` is the ``tls`` sub-table of a plugin's table (``[ins.tls]``,
``[dmp.tls]``, ``[vitale.apcv_tls]``): the CA bundle the server must chain to and the
client certificate, a PKCS#12 file or a PEM pair. :class:`TlsSettings` is the same once
resolved (test PKI defaults applied, secret revealed, see
:func:`segur_core.connection.client_tls_settings`): a plain picklable value a worker
process builds its ``ssl.SSLContext`` from.

.. code-block:: toml

    [ins.tls]
    client_pkcs12 = "/etc/segur/insi-auto.p12"
    client_password = "env:INSI_P12_PASSWORD"
    ca_bundle = "/etc/segur/igc-sante.pem"
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

import ssl
from pathlib import Path

import attrs

from segur_core.secrets import Secret
from segur_core.tls import client_context

__all__ = ["MOVED_TLS_KEYS", "ClientTls", "TlsSettings", "moved_tls_keys"]


@attrs.frozen
class ClientTls:
    """The ``tls`` table: ``ca_bundle``, then ``client_pkcs12`` + ``client_password``
    or ``client_cert`` + ``client_key`` (+ ``client_password`` for an encrypted key).
    Unset values default to the test PKI outside production."""

    client_pkcs12: Path | None = None
    client_password: Secret | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    ca_bundle: Path | None = None


#: The keys of :class:`ClientTls`, which plugin tables held directly before.
MOVED_TLS_KEYS = tuple(field.name for field in attrs.fields(ClientTls))


def moved_tls_keys(table: str, *, prefix: str = "", sub_table: str = "tls") -> dict[str, str]:
    """``{old key: new key}`` for a config class's ``moved_keys``: the TLS settings
    once written ``prefix + name`` in ``[table]``, now ``name`` in ``[table.sub_table]``."""
    return {prefix + name: f"{sub_table}.{name}" for name in MOVED_TLS_KEYS}


@attrs.frozen
class TlsSettings:
    """What a client TLS context is made of: the CA bundle and the client certificate,
    a PKCS#12 file or a PEM pair (``password`` protects either; never shown in a repr).
    Picklable, so that a worker process can build the same context."""

    ca_bundle: Path
    pkcs12: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    password: str | None = attrs.field(default=None, repr=False)

    def context(self) -> ssl.SSLContext:
        """A client context for httpx, smtplib and imaplib (see :func:`client_context`)."""
        if self.pkcs12 is not None:
            return client_context(
                ca_bundle=self.ca_bundle, pkcs12=self.pkcs12, password=self.password
            )
        return client_context(
            ca_bundle=self.ca_bundle, cert=self.cert, key=self.key, password=self.password
        )
