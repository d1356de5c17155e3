"""From the ``[ins]`` configuration to a ready :class:`~segur_ins.insi.InsiClient`.

``endpoint = "sandbox"`` resolves to the runtime's INSi sandbox; outside production,
missing certificate settings default to the runtime's test PKI (``INSI-AUTO`` in mTLS
mode, the CPS-like personal certificate in CPS mode). In production every certificate
must be configured: a missing one is a :class:`~segur_core.errors.ConfigError`.
"""

from __future__ import annotations

from typing import Any

from segur_core import connection
from segur_core.errors import ConfigError
from segur_core.secrets import reveal
from segur_ins.config import SANDBOX, InsConfig
from segur_ins.insi import (
    CpsCredentials,
    InsiClient,
    PKCS12Signer,
    PSAssertionData,
    SoftwareContext,
)

__all__ = ["build_client", "resolve_endpoint"]


def resolve_endpoint(config: InsConfig, runtime: Any) -> str:
    """The INSi URL: the sandbox's when ``endpoint`` is ``"sandbox"``."""
    return connection.resolve_endpoint(
        config.endpoint, runtime, sandbox="insi", key="ins.endpoint", service="INSi",
        hint="set the INSi URL of the Assurance Maladie",
    )  # fmt: skip


def _tls(config: InsConfig, runtime: Any):
    label = "cps" if config.auth_mode == "cps" else "insi-auto"
    return connection.client_tls(
        config, runtime, key_prefix="ins.", default_credential=lambda pki: pki.client(label)
    )


def _cps(config: InsConfig, runtime: Any) -> CpsCredentials | None:
    if config.auth_mode != "cps":
        return None
    if config.cps_pkcs12 is not None:
        password = reveal(config.cps_password)
        signer = PKCS12Signer.load(config.cps_pkcs12, password.encode() if password else None)
    elif runtime.config.mode != "production":
        credential = runtime.test_pki().client("cps")
        signer = PKCS12Signer.load(credential.p12_path, credential.p12_password.encode())
    else:
        raise ConfigError("CPS mode needs the signing certificate", key="ins.cps_pkcs12")
    practitioner = runtime.host.practitioner()
    structure = runtime.host.structure()
    data = PSAssertionData(
        holder_id=config.cps_holder_id or practitioner.idnps,
        billing_id=config.billing_id or structure.finess,
        activity_sector=structure.activity_sector,
    )
    return CpsCredentials(signer=signer, assertion=data)


def build_client(
    config: InsConfig, runtime: Any, *, max_connections: int | None = None
) -> InsiClient:
    """An INSi client for this runtime and configuration."""
    from segur_core import __version__

    endpoint = resolve_endpoint(config, runtime)
    emitter = config.emitter
    if emitter is None:
        try:
            emitter = runtime.host.structure().finess
        except Exception:
            emitter = None
    software = SoftwareContext(
        idam=config.software_id, name=config.software_name, version=__version__, emitter=emitter
    )
    client = InsiClient(
        endpoint,
        software,
        ssl_context=_tls(config, runtime),
        cps=_cps(config, runtime),
        timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        retries=config.retries,
        max_connections=max_connections or max(config.concurrency, 2),
    )
    if config.endpoint == SANDBOX:
        sandbox = runtime.sandbox("insi")
        if hasattr(sandbox, "on_stop"):
            sandbox.on_stop(client.close)
    return client
