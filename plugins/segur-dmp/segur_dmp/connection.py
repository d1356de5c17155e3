"""From the ``[dmp]`` configuration to a ready :class:`~segur_dmp.client.DMPClient`.

``endpoint = "sandbox"`` resolves to the runtime's DMP sandbox; outside production,
missing certificates default to a structure certificate of the runtime's test PKI
issued for the host's structure (its subject carries the structure's national id, as
the DMP expects). In production every certificate must be configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core import connection
from segur_core.errors import ConfigError
from segur_dmp.client import DMPClient, Endpoints
from segur_dmp.config import DMPConfig
from segur_dmp.vihf import LPS, StructureSigner

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["build_client", "resolve_endpoint", "structure_credential"]


def resolve_endpoint(config: DMPConfig, runtime: Runtime) -> str:
    return connection.resolve_endpoint(
        config.endpoint, runtime, sandbox="dmp", key="dmp.endpoint", service="DMP",
        hint="set the DMP services URL",
    )  # fmt: skip


def structure_credential(pki: Any, structure: Any) -> Any:
    """The test PKI's certificate for ``structure`` (issued on first use)."""
    return pki.structure_credential(structure, use="dmp")


def build_client(config: DMPConfig, runtime: Runtime, *, endpoint: str | None = None) -> DMPClient:
    """A DMP client for this runtime: the host's structure and practitioner, TLS and
    signing certificates from the config (or the test PKI outside production)."""
    from segur_core import __version__

    production = runtime.config.mode == "production"
    structure = runtime.host.structure()
    practitioner = runtime.host.practitioner()
    pki = None if production else runtime.test_pki()
    credential = structure_credential(pki, structure) if pki is not None else None
    context = connection.client_tls(
        config.tls, runtime, key="dmp.tls",
        default_credential=lambda _pki: credential, default_form="pem",
    )  # fmt: skip
    if config.signing_cert is not None and config.signing_key is not None:
        signer = StructureSigner.from_files(str(config.signing_key), str(config.signing_cert))
    elif credential is not None:
        signer = StructureSigner.from_files(str(credential.key_path), str(credential.cert_path))
    else:
        raise ConfigError("the VIHF signing certificate is required", key="dmp.signing_cert")
    endpoints = Endpoints(
        base_url=endpoint or resolve_endpoint(config, runtime),
        registry=config.registry_path, repository=config.repository_path,
        patients=config.patients_path, habilitations=config.habilitations_path,
    )  # fmt: skip
    return DMPClient(
        endpoints=endpoints, ssl_context=context, signer=signer, structure=structure,
        practitioner=practitioner, source_id=config.source_id, timeout=config.timeout,
        lps=LPS(name=config.lps_name, version=__version__,
                homologation_id=config.homologation_id),
    )  # fmt: skip
