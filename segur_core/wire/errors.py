"""The typed errors of a call to a national service, before any plugin reads the answer.

Each is a :class:`~segur_core.errors.RemoteServiceError` naming the ``service``; a
plugin turns them into its own errors (``InsiUnavailable``, ``DMPTransportError``...)
or lets them through. :class:`ServerCertificateError` is also a
:class:`~segur_core.errors.TLSConfigError`: an untrusted server is a configuration (or
an attack) to look at, not an outage to wait out.
"""

from __future__ import annotations

import ssl

from segur_core.errors import InputError, RemoteServiceError, TLSConfigError

__all__ = [
    "AnswerTooLarge",
    "CallTimeout",
    "ServerCertificateError",
    "ServiceUnreachable",
    "SoapFormatError",
    "certificate_failure",
]


class CallTimeout(RemoteServiceError):
    """The call did not complete within its total deadline (connect to last byte)."""

    transient = True


class ServiceUnreachable(RemoteServiceError):
    """The connection could not be made or broke (refused, reset, TLS alert...)."""

    transient = True


class ServerCertificateError(RemoteServiceError, TLSConfigError):
    """The server's certificate does not verify against the configured CA bundle (or its
    name does not match): permanent until the configuration changes."""

    transient = False


class AnswerTooLarge(RemoteServiceError):
    """The answer is larger than the call's size cap; it was not read further."""

    transient = False


class SoapFormatError(InputError):
    """Bytes that are not a SOAP 1.2 envelope (wrong root, no Body, several payloads)."""


def certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The ``ssl`` certificate verification error behind ``exc``, however deep in its
    ``__cause__``/``__context__`` chain (httpx wraps httpcore's error, which wraps ssl's)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        pending += [current.__cause__, current.__context__]
    return None
