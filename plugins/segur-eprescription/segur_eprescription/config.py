"""The ``[eprescription]`` table of ``segur.toml``.

Every field has a default so that the demo and the tests run without a file:
``endpoint = "sandbox"`` means the local e-prescription sandbox, and outside production
the TLS client certificate defaults to the structure certificate of the test PKI.

.. code-block:: toml

    [eprescription]
    endpoint = "https://…"          # the e-prescription service (its wire is not public)
    timeout = 10.0

    [eprescription.tls]
    client_pkcs12 = "/etc/segur/org-auth-cli.p12"
    client_password = "env:EPRESCRIPTION_TLS_PASSWORD"
    ca_bundle = "/etc/segur/igc-sante.pem"
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

import attrs

from segur_core.limits import positive
from segur_core.wire.tls import ClientTls

__all__ = ["SANDBOX", "EPrescriptionConfig"]

SANDBOX = "sandbox"


_positive = positive("eprescription")


@attrs.frozen
class EPrescriptionConfig:
    """Settings of segur-eprescription: ``endpoint`` (the service's base URL or
    ``"sandbox"``), ``tls`` (:class:`~segur_core.wire.ClientTls`), ``timeout`` (the
    total deadline of one call, seconds)."""

    endpoint: str = SANDBOX
    tls: ClientTls = attrs.Factory(ClientTls)
    timeout: float = attrs.field(default=10.0, validator=_positive)
