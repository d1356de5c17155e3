"""The ``[dmp]`` table of ``segur.toml``.

Every field has a default so that the demo and the tests run without a file:
``endpoint = "sandbox"`` means the local DMP sandbox, and outside production the
certificates default to a structure certificate of the runtime's test PKI.

.. code-block:: toml

    [dmp]
    endpoint = "https://lps2.dmp.gouv.fr/si-dmp-server/v2/services"
    signing_cert = "/etc/segur/org-sign.pem"           # IGC-Santé ORG SIGN (VIHF, XAdES)
    signing_key = "/etc/segur/org-sign.key"
    homologation_id = "…"                              # DMP homologation number

    [dmp.tls]
    client_pkcs12 = "/etc/segur/org-auth-cli.p12"      # IGC-Santé ORG AUTH_CLI (TLS)
    client_password = "env:DMP_AUTH_PASSWORD"
    ca_bundle = "/etc/segur/igc-sante.pem"
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

from pathlib import Path
from typing import ClassVar

import attrs

from segur_core.errors import ConfigError
from segur_core.limits import positive
from segur_core.wire.tls import ClientTls, moved_tls_keys

__all__ = ["SANDBOX", "DMPConfig"]

SANDBOX = "sandbox"


_positive = positive("dmp")


def _access_mode(instance, attribute, value) -> None:
    if value not in ("normal", "bris_de_glace", "centre_15"):
        raise ConfigError("must be normal, bris_de_glace or centre_15", key="dmp.access_mode")


@attrs.frozen
class DMPConfig:
    """Settings of the segur-dmp plugin.

    ``endpoint``: base URL of the DMP services (or ``"sandbox"``); the service paths
    are appended. ``tls``: the ``[dmp.tls]`` table, the TLS client certificate (ORG
    AUTH_CLI) and the CAs of the server (:class:`~segur_core.wire.ClientTls`);
    ``signing_cert``/``signing_key``: the VIHF and submission-set signing certificate
    (ORG SIGN). ``timeout``: the total deadline of one call, in seconds. ``auto_feed``:
    queue validated documents for the DMP. ``check_on_identification``: run the access
    check (TD0.2) when a patient's identity is qualified. ``source_id``: the LPS OID of
    the SubmissionSet ``sourceId``.
    """

    endpoint: str = SANDBOX
    tls: ClientTls = attrs.Factory(ClientTls)
    signing_cert: Path | None = None
    signing_key: Path | None = None
    access_mode: str = attrs.field(default="normal", validator=_access_mode)
    auto_feed: bool = True
    check_on_identification: bool = True
    lps_name: str = "segur"
    homologation_id: str = "SEGUR-SANDBOX"
    source_id: str = "1.2.250.1.213.1.1.9.999"
    registry_path: str = "/registry"
    repository_path: str = "/repository"
    patients_path: str = "/patients"
    habilitations_path: str = "/habilitations"
    timeout: float = attrs.field(default=15.0, validator=_positive)

    #: The TLS keys that moved to ``[dmp.tls]`` (refused here with a hint).
    moved_keys: ClassVar[dict[str, str]] = moved_tls_keys("dmp")
