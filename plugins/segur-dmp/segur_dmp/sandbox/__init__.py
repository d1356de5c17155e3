"""The DMP sandbox: a strict XDS.b registry/repository with the DMP rules, served with
mutual TLS on loopback (``segur_sandboxes`` name ``dmp``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from segur_core.sandbox import Sandbox, peer_certificate
from segur_dmp.sandbox.app import REPOSITORY_ID, DMPApp
from segur_dmp.sandbox.store import Registry, StoredDocument
from segur_dmp.sandbox.valuesets import ValueSets

__all__ = ["REPOSITORY_ID", "DMPApp", "DMPSandbox", "Registry", "StoredDocument", "ValueSets"]


def _structure_of(request: Any) -> tuple[str | None, str | None]:
    """The structure national id (OU) and common name of the TLS client certificate."""
    from cryptography.x509.oid import NameOID

    cert = peer_certificate(request)
    if cert is None:
        return None, None
    ous = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return (str(ous[0].value) if ous else None, str(cns[0].value) if cns else None)


class DMPSandbox(Sandbox):
    """The sandbox DMP. ``registry`` is its SQLite state (``db_path`` or in memory),
    ``app`` its request handling (``app.lose_reply_ratio`` drops answers after a feed
    was committed), ``faults`` the core fault injector (5xx, resets, hangs, slowness).
    """

    name = "dmp"

    def __init__(
        self,
        *,
        pki: Any,
        db_path: Path | str = ":memory:",
        value_sets: ValueSets | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pki=pki, **kwargs)
        self.registry = Registry(db_path)
        self.app = DMPApp(
            self.registry,
            ca_bundle=str(pki.ca_bundle),
            value_sets=value_sets,
            peer_structure=_structure_of,
        )

    def build_app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        async def endpoint(request: Request) -> Response:
            body = await request.body()
            status, ctype, out = await run_in_threadpool(
                self.app.handle, request.url.path, request.headers.get("content-type", ""),
                body, request,
            )  # fmt: skip
            return Response(out, status_code=status, headers={"content-type": ctype})

        paths = ("/registry", "/repository", "/patients", "/habilitations")
        return Starlette(routes=[Route(p, endpoint, methods=["POST"]) for p in paths])
