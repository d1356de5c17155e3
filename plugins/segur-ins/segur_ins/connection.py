"""From the ``[ins]`` configuration to a ready :class:`~segur_ins.insi.InsiClient`.

``endpoint = "sandbox"`` resolves to the runtime's INSi sandbox; outside production,
missing certificate settings default to the runtime's test PKI (``INSI-AUTO`` in mTLS
mode, the CPS-like personal certificate in CPS mode). In production every certificate
must be configured: a missing one is a :class:`~segur_core.errors.ConfigError`.
"""

from __future__ import annotations

from typing import Any

from segur_core.errors import ConfigError
from segur_core.tls import client_context
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
    if config.endpoint == SANDBOX:
        if runtime.config.mode == "production":
            raise ConfigError(
                "the INSi sandbox cannot be used in production mode",
                key="ins.endpoint",
                hint="set the INSi URL of the Assurance Maladie",
            )
        return runtime.sandbox("insi").url
    if not config.endpoint.startswith("https://"):
        raise ConfigError("must be an https:// URL or \"sandbox\"", key="ins.endpoint")
    return config.endpoint


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    return value.reveal() if hasattr(value, "reveal") else str(value)


def _tls(config: InsConfig, runtime: Any):
    production = runtime.config.mode == "production"
    pki = None if production else runtime.test_pki()
    ca_bundle = config.ca_bundle or (pki.ca_bundle if pki else None)
    if ca_bundle is None:
        raise ConfigError("a CA bundle is required in production", key="ins.ca_bundle")
    if config.client_pkcs12 is not None:
        return client_context(
            ca_bundle=ca_bundle,
            pkcs12=config.client_pkcs12,
            password=_secret(config.client_password),
        )
    if config.client_cert is not None:
        return client_context(
            ca_bundle=ca_bundle,
            cert=config.client_cert,
            key=config.client_key,
            password=_secret(config.client_password),
        )
    if pki is None:
        raise ConfigError(
            "a client certificate is required in production", key="ins.client_pkcs12"
        )
    credential = pki.client("cps" if config.auth_mode == "cps" else "insi-auto")
    return client_context(
        ca_bundle=ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
    )


def _cps(config: InsConfig, runtime: Any) -> CpsCredentials | None:
    if config.auth_mode != "cps":
        return None
    if config.cps_pkcs12 is not None:
        password = _secret(config.cps_password)
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
