"""A local ApCV service (starlette, mutual TLS with the test PKI) for tests and the demo.

It speaks the ASSUMED wire format of :mod:`segur_vitale.apcv.client`. Contexts (what a
QR code or an NFC exchange designates) are issued with :meth:`ApcvSandbox.issue`: valid
for ``ttl`` seconds, single use (ASSUMED). An expired context answers ``410``, an
unknown or already used one ``404``, a malformed request ``400``, a client without a
certificate from the test PKI cannot connect at all (mutual TLS).
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any

import attrs

from segur_core.model import IdentityTraits, hidden
from segur_core.sandbox import Sandbox, peer_certificate
from segur_vitale.apcv.adapter import MAX_PAYLOAD
from segur_vitale.apcv.client import IDENTIFY_PATH

__all__ = ["DEMO_APCV_PERSON", "ApcvPerson", "ApcvSandbox"]


@attrs.frozen
class ApcvPerson:
    """A beneficiary known to the sandbox: traits and NIR."""

    traits: IdentityTraits
    nir: str | None = attrs.field(default=None, repr=hidden)

    def to_json(self, rank: int, insured_nir: str | None) -> dict[str, Any]:
        return {
            "rank": rank,
            "birth_name": self.traits.birth_name,
            "first_names": list(self.traits.first_names),
            "sex": self.traits.sex.value,
            "birth_date": str(self.traits.birth_date),
            "birth_place": self.traits.birth_place,
            "nir": self.nir,
            "insured_nir": insured_nir,
        }


def _demo_person() -> ApcvPerson:
    from segur_core.model import BirthDate, Sex
    from segur_vitale.virtual.cards import DEMO_CARDHOLDER as H

    traits = IdentityTraits(H.birth_name, (H.first_name,), Sex.FEMALE,
                            BirthDate.parse(f"{H.birth_date[:4]}-{H.birth_date[4:6]}-"
                                            f"{H.birth_date[6:]}"), birth_place="63220")
    return ApcvPerson(traits, H.nir)


#: The demo card holder (CNDA test person ADRUN ZOE) as the app knows her.
DEMO_APCV_PERSON = _demo_person()


@attrs.define
class _Context:
    persons: tuple[ApcvPerson, ...]
    expires_at: float
    used: bool = False


class ApcvSandbox(Sandbox):
    """The ApCV sandbox (name ``apcv``)."""

    name = "apcv"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._contexts: dict[str, _Context] = {}
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []

    def issue(self, persons: Sequence[ApcvPerson] = (DEMO_APCV_PERSON,), *,
              ttl: float = 120.0) -> str:
        """Register a context for ``persons`` (holder first); returns its QR payload.
        The same context is reachable by NFC with the payload's ASCII bytes."""
        payload = "APCV1." + secrets.token_urlsafe(24)
        with self._lock:
            self._contexts[payload] = _Context(tuple(persons), time.monotonic() + ttl)
        return payload

    def issue_expired(self, persons: Sequence[ApcvPerson] = (DEMO_APCV_PERSON,)) -> str:
        """A context that has already expired."""
        return self.issue(persons, ttl=-1.0)

    def build_app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        def error(status: int, code: str, message: str) -> JSONResponse:
            return JSONResponse({"error": code, "message": message}, status_code=status)

        async def identify(request: Request) -> JSONResponse:
            cert = peer_certificate(request)
            if cert is None and self.tls is not None:
                return error(401, "no-certificate", "a structure certificate is required")
            try:
                body = await request.json()
                mode, payload = body["mode"], body["payload"]
                if mode not in ("qr", "nfc") or not isinstance(payload, str):
                    raise ValueError
                if len(payload) > 2 * MAX_PAYLOAD:
                    raise ValueError
                key = payload if mode == "qr" else base64.b64decode(
                    payload, validate=True).decode("ascii")
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                return error(400, "bad-request", "expected JSON {mode, payload}")
            with self._lock:
                self.requests.append({"mode": mode})
                context = self._contexts.get(key)
                if context is None or context.used:
                    return error(404, "unknown-context", "no such ApCV context")
                if time.monotonic() > context.expires_at:
                    return error(410, "expired-context", "the ApCV context has expired")
                context.used = True
            insured = context.persons[0].nir
            return JSONResponse({
                "context": secrets.token_hex(8),
                "beneficiaries": [p.to_json(rank, insured)
                                  for rank, p in enumerate(context.persons, start=1)],
            })

        return Starlette(routes=[Route(IDENTIFY_PATH, identify, methods=["POST"])])
