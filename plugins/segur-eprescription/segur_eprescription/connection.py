"""From the ``[eprescription]`` configuration to a ready gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING

from segur_core import connection
from segur_eprescription.client import HttpsGateway
from segur_eprescription.config import EPrescriptionConfig

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["build_gateway"]


def build_gateway(config: EPrescriptionConfig, runtime: Runtime) -> HttpsGateway:
    """The HTTPS gateway for this runtime (the sandbox's URL for ``"sandbox"``; outside
    production the test PKI's structure certificate)."""
    url = connection.resolve_endpoint(
        config.endpoint, runtime, sandbox="eprescription", key="eprescription.endpoint",
        service="e-prescription", hint="set the e-prescription service URL",
    )  # fmt: skip
    context = connection.client_tls(
        config.tls, runtime, key="eprescription.tls",
        default_credential=lambda pki: pki.client("structure"),
    )  # fmt: skip
    return HttpsGateway(url, ssl_context=context, timeout=config.timeout)
