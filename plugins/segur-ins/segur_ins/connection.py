"""From the ``[ins]`` configuration to a ready :class:`~segur_ins.insi.InsiClient`.

``endpoint = "sandbox"`` resolves to the runtime's INSi sandbox; outside production,
missing certificate settings default to the runtime's test PKI (``INSI-AUTO`` in mTLS
mode, the CPS-like personal certificate in CPS mode). In production every certificate
must be configured: a missing one is a :class:`~segur_core.errors.ConfigError`.

:func:`client_recipe` resolves all that into a :class:`ClientRecipe`, a picklable value
that builds the client: the batch's worker processes get the recipe, not the runtime.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from segur_core import connection
from segur_core.errors import ConfigError
from segur_core.secrets import reveal
from segur_core.wire.signing import KeySigner
from segur_ins.config import InsConfig
from segur_ins.insi import CpsCredentials, InsiClient, PSAssertionData, SoftwareContext

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["ClientRecipe", "CpsRecipe", "build_client", "client_recipe", "resolve_endpoint"]


def resolve_endpoint(config: InsConfig, runtime: Runtime) -> str:
    """The INSi URL: the sandbox's when ``endpoint`` is ``"sandbox"``."""
    return connection.resolve_endpoint(
        config.endpoint, runtime, sandbox="insi", key="ins.endpoint", service="INSi",
        hint="set the INSi URL of the Assurance Maladie",
    )  # fmt: skip


def _tls(config: InsConfig, runtime: Runtime) -> connection.TlsSettings:
    label = "cps" if config.auth_mode == "cps" else "insi-auto"
    return connection.client_tls_settings(
        config.tls, runtime, key="ins.tls", default_credential=lambda pki: pki.client(label)
    )


@attrs.frozen
class CpsRecipe:
    """CPS mode: the PKCS#12 file that signs the PS assertion and what it states."""

    pkcs12: Path
    password: str | None = attrs.field(repr=False)
    assertion: PSAssertionData

    def credentials(self) -> CpsCredentials:
        password = self.password.encode() if self.password else None  # "": none
        return CpsCredentials(KeySigner.from_pkcs12(self.pkcs12, password), self.assertion)


def _cps(config: InsConfig, runtime: Runtime) -> CpsRecipe | None:
    if config.auth_mode != "cps":
        return None
    if config.cps_pkcs12 is not None:
        pkcs12, password = Path(config.cps_pkcs12), reveal(config.cps_password)
    elif runtime.config.mode != "production":
        credential = runtime.test_pki().client("cps")
        pkcs12, password = credential.p12_path, credential.p12_password
    else:
        raise ConfigError("CPS mode needs the signing certificate", key="ins.cps_pkcs12")
    practitioner = runtime.host.practitioner()
    structure = runtime.host.structure()
    data = PSAssertionData(
        holder_id=config.cps_holder_id or practitioner.idnps,
        billing_id=config.billing_id or structure.finess,
        activity_sector=structure.activity_sector,
    )
    return CpsRecipe(pkcs12, password, data)


@attrs.frozen
class ClientRecipe:
    """Everything an :class:`~segur_ins.insi.InsiClient` is built from, resolved:
    endpoint URL, software context, TLS and CPS files. Picklable; secrets never shown
    in its repr."""

    endpoint: str
    software: SoftwareContext
    tls: connection.TlsSettings
    cps: CpsRecipe | None
    timeout: float
    connect_timeout: float
    retries: int
    max_connections: int

    def build(self) -> InsiClient:
        """A new client (its own connections); loads the certificate files."""
        return InsiClient(
            self.endpoint,
            self.software,
            ssl_context=self.tls.context(),
            cps=self.cps.credentials() if self.cps is not None else None,
            timeout=self.timeout,
            connect_timeout=self.connect_timeout,
            retries=self.retries,
            max_connections=self.max_connections,
        )


def client_recipe(
    config: InsConfig, runtime: Runtime, *, max_connections: int | None = None
) -> ClientRecipe:
    """The recipe of this runtime's INSi client (see :func:`build_client`)."""
    from segur_core import __version__

    emitter = config.emitter
    if emitter is None:
        try:
            emitter = runtime.host.structure().finess
        except Exception:
            emitter = None
    software = SoftwareContext(
        idam=config.software_id, name=config.software_name, version=__version__, emitter=emitter
    )
    return ClientRecipe(
        endpoint=resolve_endpoint(config, runtime),
        software=software,
        tls=_tls(config, runtime),
        cps=_cps(config, runtime),
        timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        retries=config.retries,
        max_connections=max_connections or max(config.concurrency, 2),
    )


def build_client(
    config: InsConfig, runtime: Runtime, *, max_connections: int | None = None
) -> InsiClient:
    """An INSi client for this runtime and configuration (the service that holds it
    closes it with the runtime, before the sandboxes stop)."""
    return client_recipe(config, runtime, max_connections=max_connections).build()
