"""The ``[ins]`` table of ``segur.toml``.

Every field has a default so that the demo and the tests run without a file: the INSi
endpoint ``"sandbox"`` means the local INSi sandbox (``runtime.sandbox("insi").url``),
and in demo/test mode the certificates default to the runtime's test PKI.

.. code-block:: toml

    [ins]
    endpoint = "https://qualiflps-services-ps-tlsm.ameli.fr:443/lps"
    auth_mode = "mtls"                       # or "cps"
    software_id = "…"                        # CNDA authorisation number (IDAM)

    [ins.tls]
    client_pkcs12 = "/etc/segur/insi-auto.p12"
    client_password = "env:INSI_P12_PASSWORD"
    ca_bundle = "/etc/segur/igc-sante.pem"
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

from pathlib import Path
from typing import ClassVar

import attrs

from segur_core.errors import ConfigError
from segur_core.limits import positive
from segur_core.secrets import Secret
from segur_core.wire.tls import ClientTls, moved_tls_keys

__all__ = ["AUTH_MODES", "SANDBOX", "SANDBOX_SOFTWARE_ID", "InsConfig"]

#: The ``endpoint`` value meaning "the local INSi sandbox".
SANDBOX = "sandbox"
#: The software authorisation number the sandbox knows (``ContexteLPS/LPS/IDAM``).
SANDBOX_SOFTWARE_ID = "SEGUR-CNDA-0001"
AUTH_MODES = ("mtls", "cps")


_positive = positive("ins")


def _non_negative(instance, attribute, value) -> None:
    if value < 0:
        raise ConfigError(f"must be >= 0, got {value}", key=f"ins.{attribute.name}")


def _auth_mode(instance, attribute, value) -> None:
    if value not in AUTH_MODES:
        raise ConfigError(
            f"must be one of {', '.join(AUTH_MODES)}, got {value!r}", key="ins.auth_mode"
        )


@attrs.frozen
class InsConfig:
    """Settings of the segur-ins plugin.

    ``endpoint``: INSi URL, or ``"sandbox"``. ``auth_mode``: ``mtls`` (structure
    certificate CN ``INSI-AUTO``/``INSI-MANU``) or ``cps`` (mutual TLS plus a PS
    assertion signed with ``cps_pkcs12``). ``tls``: the ``[ins.tls]`` table, the TLS
    client certificate and the CAs the server certificate must chain to
    (:class:`~segur_core.wire.ClientTls`). ``software_id``: the CNDA authorisation number
    sent as ``IDAM``; ``emitter``: the ContexteLPS ``Emetteur``. ``timeout`` (the total
    deadline of one call) and ``connect_timeout`` in seconds, ``retries`` for transient
    failures. ``concurrency``
    and ``rate_limit`` (requests per second, 0: none) bound ``segur ins qualify --all``;
    ``processes`` is how many worker processes make its INSi calls (0: threads of the
    calling process only; unset: several on a multi-core machine for a large batch, see
    :mod:`segur_ins.workers`).
    """

    endpoint: str = SANDBOX
    auth_mode: str = attrs.field(default="mtls", validator=_auth_mode)
    tls: ClientTls = attrs.Factory(ClientTls)
    cps_pkcs12: Path | None = None
    cps_password: Secret | None = None
    cps_holder_id: str | None = None
    billing_id: str | None = None
    software_id: str = SANDBOX_SOFTWARE_ID
    software_name: str = "segur"
    emitter: str | None = None
    timeout: float = attrs.field(default=10.0, validator=_positive)
    connect_timeout: float = attrs.field(default=5.0, validator=_positive)
    retries: int = attrs.field(default=2, validator=_non_negative)
    concurrency: int = attrs.field(default=8, validator=_positive)
    rate_limit: float = attrs.field(default=0.0, validator=_non_negative)
    processes: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_non_negative)
    )
    verify_at_each_act: bool = True

    #: The TLS keys that moved to ``[ins.tls]`` (refused here with a hint).
    moved_keys: ClassVar[dict[str, str]] = moved_tls_keys("ins")
