"""The typed errors of the host contract called over HTTP.

Every failure of a call to the LGO is a :class:`HostCallError` (a
:class:`~segur_core.errors.RemoteServiceError` of service ``host``) naming the operation
(``GET /patients/{id}``, the route, never the identifiers in it) and the HTTP status when
there was one. ``transient`` says whether calling again later may succeed: the LGO down,
slow or answering 5xx is :class:`HostUnavailable`; a request it refused is
:class:`HostRefused`; an answer the contract does not allow (not JSON, wrong shape, too
large, a 404 that is not the contract's "not found") is :class:`HostAnswerError`, also a
:class:`~segur_core.errors.ConformanceError`; an LGO certificate that does not verify is
:class:`HostCertificateError`. Messages never hold a patient's data.
"""

from __future__ import annotations

from segur_core.errors import ConformanceError, RemoteServiceError, TLSConfigError
from segur_core.host.paging import CursorError

__all__ = [
    "SERVICE",
    "HostAnswerError",
    "HostCallError",
    "HostCertificateError",
    "HostCursorError",
    "HostRefused",
    "HostTimeout",
    "HostUnavailable",
]

#: The service name of these errors (``error.service``).
SERVICE = "host"


class HostCallError(RemoteServiceError):
    """A call to the LGO's host API failed: ``operation`` is the route called,
    ``status`` the HTTP status (``None`` when no answer came)."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"{operation}: {message}", service=SERVICE, code=code, hint=hint)
        self.operation = operation
        self.status = status


class HostUnavailable(HostCallError):
    """The LGO could not be reached, broke the connection or answered 5xx: the call may
    succeed later."""

    transient = True


class HostTimeout(HostUnavailable):
    """The LGO gave no complete answer within the call's deadline."""


class HostCertificateError(HostCallError, TLSConfigError):
    """The LGO's certificate does not verify against ``[host.tls] ca_bundle`` (or its
    name does not match): a configuration, or an attack, to look at."""

    transient = False


class HostRefused(HostCallError):
    """The LGO refused the request (4xx: not authorised, invalid, conflict)."""

    transient = False


class HostCursorError(HostRefused, CursorError):
    """The LGO refused a page cursor it did not give (400, problem type
    ``urn:segur:host:bad-cursor``): the same :class:`~segur_core.host.CursorError` as
    from a host in the same process."""


class HostAnswerError(HostCallError, ConformanceError):
    """The LGO answered something the host contract does not allow (not JSON, a value
    of the wrong shape, larger than the size cap, an unexpected status)."""

    transient = False
