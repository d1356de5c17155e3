"""A stand-in for Pro Santé Connect in the sandbox: RS256 access tokens (JWT) signed with
a local key that the sandbox Dovecot trusts (oauth2 passdb, local validation).

Only the sandbox and the tests use it; a real token comes from Pro Santé Connect.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["ISSUER", "SandboxTokens", "TokenIssuer"]

ISSUER = "https://auth.sandbox.esante.test/auth/realms/esante-wallet"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenIssuer:
    """Signs access tokens for a mailbox address (``sub`` and ``email`` claims)."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def issue(self, address: str, *, lifetime: float = 300.0, forged: bool = False) -> str:
        """An access token for ``address`` valid ``lifetime`` seconds (negative: expired);
        ``forged`` signs it with a key the server does not trust."""
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT"}
        claims = {
            "iss": ISSUER,
            "sub": address,
            "email": address,
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + int(lifetime),
            "jti": str(uuid.uuid4()),
            "scope": "openid scope_all",
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        key = self._foreign if forged else self._key
        signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"


class SandboxTokens:
    """A :class:`~segur_mssante.tokens.TokenProvider` over a :class:`TokenIssuer`: what
    a Pro Santé Connect session gives, with switches to expire the token and to refuse
    the refresh."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer
        self.expired = False
        self.refuse_refresh = False
        self.refreshes = 0

    def token(self, address: str) -> str:
        return self.issuer.issue(address, lifetime=-60 if self.expired else 300)

    def refresh(self, address: str) -> str:
        from segur_mssante.errors import MSSAuthError

        self.refreshes += 1
        if self.refuse_refresh:
            raise MSSAuthError(
                "Pro Santé Connect refused the refresh: the session ends",
                hint="log in to Pro Santé Connect again",
            )
        self.expired = False
        return self.issuer.issue(address)
