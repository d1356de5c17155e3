"""Pro Santé Connect access tokens for XOAUTH2 (ECO.1.2.1, ECO.1.2.5 to 1.2.7).

segur never stores a token: a :class:`TokenProvider` (the host's Pro Santé Connect
session, or the sandbox's stand-in) gives the current access token and a refreshed one;
when the refresh is refused it raises :class:`~segur_mssante.errors.MSSAuthError` and the
mail session ends.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["TokenProvider", "xoauth2"]


@runtime_checkable
class TokenProvider(Protocol):
    """Gives access tokens for a mailbox address; never persists them."""

    def token(self, address: str) -> str:
        """The current access token for ``address``."""

    def refresh(self, address: str) -> str:
        """A new access token (refresh grant); ``MSSAuthError`` when refused."""


def xoauth2(address: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64)."""
    return f"user={address}\x01auth=Bearer {token}\x01\x01"
