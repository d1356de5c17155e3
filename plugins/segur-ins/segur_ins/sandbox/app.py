"""The INSi sandbox: :class:`InsiService` behind starlette, under mutual TLS on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from segur_core.sandbox import Sandbox, peer_certificate
from segur_ins.config import SANDBOX_SOFTWARE_ID
from segur_ins.sandbox.directory import Directory
from segur_ins.sandbox.persons import CNDA_PERSONS, Person, generate_persons
from segur_ins.sandbox.service import InsiService, SandboxFault, fault_envelope

__all__ = ["InsiSandbox", "build_app"]

_MEDIA = "application/soap+xml; charset=utf-8"


def build_app(service: InsiService, technical_faults: _Countdown | None = None) -> Any:
    """A starlette app answering INSi SOAP requests on any path with ``service``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        if technical_faults is not None and technical_faults.take():
            fault = SandboxFault(
                "siram_40",
                "insi_102",
                "Erreur technique lors de la recherche",
                sender=False,
            )
            return Response(fault_envelope(fault), 500, media_type=_MEDIA)
        status, payload = service.handle(
            body, request.headers.get("content-type", ""), peer_certificate(request)
        )
        return Response(payload, status, media_type=_MEDIA)

    routes = [Route("/{path:path}", endpoint, methods=["POST"])]
    return Starlette(routes=routes)


class _Countdown:
    def __init__(self) -> None:
        self._left = 0
        self._lock = threading.Lock()

    def arm(self, count: int) -> None:
        with self._lock:
            self._left += count

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


class InsiSandbox(Sandbox):
    """A local INSi téléservice (the ``insi`` sandbox).

    Serves the CNDA test persons, plus ``generated`` deterministic ones (seed ``seed``)
    for load tests; knows the software ids ``software_ids``; validates requests against
    the official XSDs when they are present. HTTP-level faults are armed on
    ``sandbox.faults`` (a :class:`~segur_core.sandbox.FaultInjector`); INSi technical
    faults (``insi_102``) with :meth:`technical_fault_next`.
    """

    name = "insi"

    def __init__(
        self,
        *,
        pki: Any = None,
        persons: Iterable[Person] | None = None,
        generated: int = 0,
        seed: int = 1,
        software_ids: Iterable[str] = (SANDBOX_SOFTWARE_ID,),
        validate: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(pki=pki, **kwargs)
        directory = Directory(CNDA_PERSONS if persons is None else persons)
        if generated:
            directory.add(generate_persons(generated, seed=seed))
        trust: Path | None = getattr(pki, "ca_bundle", None)
        self.service = InsiService(
            directory, software_ids=software_ids, trust_bundle=trust, validate=validate
        )
        self._technical = _Countdown()

    @property
    def directory(self) -> Directory:
        return self.service.directory

    def add_persons(self, persons: Iterable[Person]) -> None:
        """Make more persons known to the running sandbox."""
        self.service.directory.add(persons)

    def technical_fault_next(self, count: int = 1) -> None:
        """Answer the next ``count`` requests with the ``insi_102`` technical fault."""
        self._technical.arm(count)

    def build_app(self) -> Any:
        return build_app(self.service, self._technical)
