"""The ``[dp]`` table of ``segur.toml``.

Every field has a default so that the demo and the tests run without a file:
``endpoint = "sandbox"`` means the local DP sandbox. The DP protocol is not public
(approved by the CNOP against an unpublished specification): ``endpoint`` is the base
URL an approved DP adapter speaks to; the bundled HTTPS adapter speaks the sandbox's
own protocol.

.. code-block:: toml

    [dp]
    endpoint = "sandbox"
    timeout = 15.0

    [dp.depth]          # months of history, at most 12 / 36 / 252 (the legal windows)
    ordinary = 12       # the Ségur year, instead of 3 months
    biological = 36
    vaccine = 252

    [dp.tls]
    client_pkcs12 = "/etc/segur/org-auth-cli.p12"
    client_password = "env:DP_AUTH_PASSWORD"
    ca_bundle = "/etc/segur/igc-sante.pem"
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

import attrs

from segur_core.limits import positive
from segur_core.wire.tls import ClientTls
from segur_dp.depth import Depth

__all__ = ["SANDBOX", "DPConfig"]

SANDBOX = "sandbox"


_positive = positive("dp")


@attrs.frozen
class DPConfig:
    """Settings of the segur-dp plugin.

    ``endpoint``: the DP service URL (or ``"sandbox"``); ``tls``: the ``[dp.tls]`` table
    (:class:`~segur_core.wire.ClientTls`); ``depth``: the ``[dp.depth]`` table, months of
    history per category, refused above the legal window; ``timeout``: the total deadline
    of one call, in seconds; ``max_answer_bytes``: the size cap of one answer;
    ``consent_purpose``: the purpose of the patient's consent asked of the host.
    """

    endpoint: str = SANDBOX
    tls: ClientTls = attrs.Factory(ClientTls)
    depth: Depth = attrs.Factory(Depth)
    timeout: float = attrs.field(default=15.0, validator=_positive)
    max_answer_bytes: int = attrs.field(default=8 * 1024 * 1024, validator=_positive)
    consent_purpose: str = "dp"
