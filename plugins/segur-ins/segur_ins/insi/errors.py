"""Typed errors of the INSi client.

Every failure of an INSi call is an :class:`InsiError` (a
:class:`~segur_core.errors.RemoteServiceError` with ``service="insi"``): a SOAP fault
sent by the service (:class:`InsiFault` and its subclasses for the known codes), a
transport problem (:class:`InsiUnavailable`, transient), an untrusted server
(:class:`InsiCertificateError`, permanent) or an answer that is not a valid
INSi response (:class:`InsiProtocolError`). Messages never hold patient data.
"""

from __future__ import annotations

from segur_core.errors import RemoteServiceError
from segur_core.wire.errors import ServerCertificateError

__all__ = [
    "InsiAccessDenied",
    "InsiCertificateError",
    "InsiError",
    "InsiFault",
    "InsiProtocolError",
    "InsiTechnicalError",
    "InsiUnavailable",
    "InsiUnknownSoftware",
    "fault_class",
]

SERVICE = "insi"


class InsiError(RemoteServiceError):
    """An INSi call failed."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        transient: bool | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, service=SERVICE, code=code, transient=transient, hint=hint)


class InsiFault(InsiError):
    """The service answered a SOAP 1.2 fault.

    ``code`` is the ``siram:Erreur/@code`` (``desir_550``, ``insi_102``...) or the
    subcode when there is no detail; ``subcode`` the ``Code/Subcode/Value``
    (``siram_100``); ``severity`` the ``@severite``; ``reason`` the ``Reason/Text``;
    ``sender`` whether the fault blames the request (``Sender``) or the service.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        subcode: str | None = None,
        severity: str | None = None,
        reason: str = "",
        sender: bool = True,
        transient: bool | None = None,
        hint: str | None = None,
    ) -> None:
        if transient is None:
            transient = not sender
        super().__init__(message, code=code, transient=transient, hint=hint)
        self.subcode = subcode
        self.severity = severity
        self.reason = reason
        self.sender = sender


class InsiUnknownSoftware(InsiFault):
    """``desir_550``: the software authorisation number (ContexteLPS IDAM) is unknown."""

    transient = False


class InsiAccessDenied(InsiFault):
    """``DESIR_560``: access level not sufficient (certificate CN not INSI-AUTO/INSI-MANU)."""

    transient = False


class InsiTechnicalError(InsiFault):
    """``insi_102``: the service hit a technical error; trying again later may work."""


class InsiUnavailable(InsiError):
    """The service could not be reached or answered without a usable body (timeout,
    connection reset, HTTP 5xx without SOAP fault). Transient."""

    transient = True


class InsiCertificateError(InsiError, ServerCertificateError):
    """The INSi server's certificate does not verify against the configured CA bundle:
    a permanent TLS error (also a :class:`~segur_core.errors.TLSConfigError`)."""

    transient = False


class InsiProtocolError(InsiError):
    """The answer is not a valid INSi response (not XML, not SOAP, missing elements)."""

    transient = False


_BY_CODE: dict[str, tuple[type[InsiFault], bool | None]] = {
    "desir_550": (InsiUnknownSoftware, False),
    "desir_560": (InsiAccessDenied, False),
    "insi_102": (InsiTechnicalError, True),
}


def fault_class(code: str | None) -> tuple[type[InsiFault], bool | None]:
    """The error class for a fault code and whether it is transient (``None``: decide
    from the fault's Sender/Receiver code)."""
    return _BY_CODE.get((code or "").lower(), (InsiFault, None))
