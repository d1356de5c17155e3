"""From the ``[dp]`` configuration to a ready :class:`~segur_dp.https.HttpsAdapter`:
``endpoint = "sandbox"`` resolves to the runtime's DP sandbox, and outside production the
``[dp.tls]`` certificates default to the test PKI's structure certificate."""

from __future__ import annotations

from typing import Any

from segur_core import connection
from segur_dp.config import DPConfig
from segur_dp.https import HttpsAdapter

__all__ = ["build_adapter"]


def build_adapter(config: DPConfig, runtime: Any) -> HttpsAdapter:
    url = connection.resolve_endpoint(
        config.endpoint, runtime, sandbox="dp", key="dp.endpoint", service="DP",
        hint="set the URL of an approved DP connector",
    )  # fmt: skip
    context = connection.client_tls(
        config.tls, runtime, key="dp.tls", default_credential=lambda pki: pki.client("structure")
    )
    return HttpsAdapter(
        url, ssl_context=context, timeout=config.timeout, max_bytes=config.max_answer_bytes
    )
