"""The ``[vitale]`` table of ``segur.toml``.

Every field has a default so that the demo and the tests run without a file.

.. code-block:: toml

    [vitale]
    reader = "Gemalto"            # only readers whose name contains this (default: all)
    transport = "pcsc"            # "pcsc": real readers; "virtual": the in-process card
    apcv_endpoint = "sandbox"     # the local ApCV sandbox, or the URL of the service
    apcv_client_pkcs12 = "/etc/segur/structure.p12"
    apcv_client_password = "env:APCV_P12_PASSWORD"
    apcv_ca_bundle = "/etc/segur/igc-sante.pem"
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

from pathlib import Path

import attrs

from segur_core.errors import ConfigError
from segur_core.secrets import Secret

__all__ = ["SANDBOX", "TRANSPORTS", "VitaleConfig"]

#: The ``apcv_endpoint`` value meaning "the local ApCV sandbox".
SANDBOX = "sandbox"
TRANSPORTS = ("pcsc", "virtual")


def _transport(instance, attribute, value) -> None:
    if value not in TRANSPORTS:
        raise ConfigError(f"must be one of {', '.join(TRANSPORTS)}, got {value!r}",
                          key="vitale.transport")


def _positive(instance, attribute, value) -> None:
    if value <= 0:
        raise ConfigError(f"must be > 0, got {value}", key=f"vitale.{attribute.name}")


@attrs.frozen
class VitaleConfig:
    """Settings of the segur-vitale plugin.

    ``reader``: a case-insensitive substring of the reader names to use (``None``: all).
    ``transport``: ``pcsc`` (readers through pcscd) or ``virtual`` (the in-process
    virtual card, for demos without pcscd). ``apcv_endpoint``: the appli carte Vitale
    service URL, or ``"sandbox"``; ``apcv_client_*`` and ``apcv_ca_bundle``: its mutual
    TLS credentials (in demo/test mode they default to the runtime's test PKI).
    ``apcv_timeout`` in seconds.
    """

    reader: str | None = None
    transport: str = attrs.field(default="pcsc", validator=_transport)
    apcv_endpoint: str = SANDBOX
    apcv_client_pkcs12: Path | None = None
    apcv_client_password: Secret | None = None
    apcv_client_cert: Path | None = None
    apcv_client_key: Path | None = None
    apcv_ca_bundle: Path | None = None
    apcv_timeout: float = attrs.field(default=10.0, validator=_positive)
