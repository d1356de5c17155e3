"""The ``[vitale]`` table of ``segur.toml``.

Every field has a default so that the demo and the tests run without a file.

.. code-block:: toml

    [vitale]
    reader = "Gemalto"            # only readers whose name contains this (default: all)
    transport = "pcsc"            # "pcsc": real readers; "virtual": the in-process card
    apcv_endpoint = "sandbox"     # the local ApCV sandbox, or the URL of the service

    [vitale.apcv_tls]
    client_pkcs12 = "/etc/segur/structure.p12"
    client_password = "env:APCV_P12_PASSWORD"
    ca_bundle = "/etc/segur/igc-sante.pem"
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

from typing import ClassVar

import attrs

from segur_core.errors import ConfigError
from segur_core.limits import positive
from segur_core.wire.tls import ClientTls, moved_tls_keys

__all__ = ["SANDBOX", "TRANSPORTS", "VitaleConfig"]

#: The ``apcv_endpoint`` value meaning "the local ApCV sandbox".
SANDBOX = "sandbox"
TRANSPORTS = ("pcsc", "virtual")


def _transport(instance, attribute, value) -> None:
    if value not in TRANSPORTS:
        raise ConfigError(f"must be one of {', '.join(TRANSPORTS)}, got {value!r}",
                          key="vitale.transport")


_positive = positive("vitale")


@attrs.frozen
class VitaleConfig:
    """Settings of the segur-vitale plugin.

    ``reader``: a case-insensitive substring of the reader names to use (``None``: all).
    ``transport``: ``pcsc`` (readers through pcscd) or ``virtual`` (the in-process
    virtual card, for demos without pcscd). ``apcv_endpoint``: the appli carte Vitale
    service URL, or ``"sandbox"``; ``apcv_tls``: the ``[vitale.apcv_tls]`` table, its mutual
    TLS credentials (:class:`~segur_core.wire.ClientTls`; in demo/test mode they default
    to the runtime's test PKI). ``apcv_timeout`` in seconds.
    """

    reader: str | None = None
    transport: str = attrs.field(default="pcsc", validator=_transport)
    apcv_endpoint: str = SANDBOX
    apcv_tls: ClientTls = attrs.Factory(ClientTls)
    apcv_timeout: float = attrs.field(default=10.0, validator=_positive)

    #: The TLS keys that moved to ``[vitale.apcv_tls]`` (refused here with a hint).
    moved_keys: ClassVar[dict[str, str]] = moved_tls_keys("vitale", prefix="apcv_",
                                                          sub_table="apcv_tls")
