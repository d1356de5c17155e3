"""Errors of the DMP plugin: every one is a :mod:`segur_core.errors` subclass.

Messages never hold a patient identifier; ``hint`` tells the pharmacist what to do.
"""

from __future__ import annotations

import attrs

from segur_core.errors import (
    InputError,
    PermanentDeliveryError,
    RemoteServiceError,
    SecurityError,
    TransientDeliveryError,
)

__all__ = [
    "AccessRefused",
    "DMPTransportError",
    "MTOMError",
    "RegistryError",
    "RegistryErrorItem",
    "RegistryErrorList",
    "SOAPFault",
    "VIHFError",
]


class MTOMError(InputError):
    """A multipart/related MTOM/XOP message is malformed (framing, headers, references)."""


class VIHFError(SecurityError):
    """A VIHF assertion cannot be built, or is missing, unsigned, badly signed or incomplete."""


class AccessRefused(SecurityError):
    """The pharmacy may not access this patient's DMP (``status`` from TD0.2, or a local rule).

    ``status`` is ``NON_EXISTE``, ``EXPIRE``, ``INTERDIT``, ``NO_DMP``, ``CLOSED``,
    ``NO_CONSENT``, ``NO_INS`` or ``NO_PATIENT``; the message and ``hint`` say why and what to do.
    """

    def __init__(self, message: str, *, status: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


@attrs.frozen
class RegistryErrorItem:
    """One ``rs:RegistryError``: its code (``XDSDuplicateUniqueIdInRegistry``...), text,
    severity and location."""

    code: str
    context: str = ""
    severity: str = "error"
    location: str = ""


class RegistryError(PermanentDeliveryError):
    """The registry or repository answered ``Failure`` with a ``RegistryErrorList``.

    ``code`` is the first error code; ``errors`` holds them all. Permanent: the same
    request will fail again.
    """

    def __init__(self, errors: tuple[RegistryErrorItem, ...], *, hint: str | None = None):
        first = errors[0] if errors else RegistryErrorItem("XDSRegistryError")
        super().__init__(
            first.context or "the DMP registry refused the request",
            service="dmp",
            code=first.code,
            hint=hint or _HINTS.get(first.code),
        )
        self.errors = tuple(errors)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(error.code for error in self.errors)


RegistryErrorList = tuple[RegistryErrorItem, ...]


class SOAPFault(RemoteServiceError):
    """The service answered a SOAP 1.2 fault. ``transient`` for ``soap:Receiver`` faults."""


class DMPTransportError(TransientDeliveryError):
    """The DMP could not be reached or answered 5xx, a timeout or a reset: retry later."""


_HINTS = {
    "XDSDuplicateUniqueIdInRegistry": "this document is already in the DMP; nothing to resend",
    "XDSNonIdenticalHash": "a different document with the same id is already in the DMP; "
    "issue a new version instead of resending",
    "XDSPatientIdDoesNotMatch": "the document's INS does not match the submission's INS",
    "XDSUnknownPatientId": "the patient has no DMP; ask them to activate Mon Espace Santé",
    "XDSRegistryMetadataError": "the document metadata were refused; check the document header",
    "XDSMissingDocument": "the document attachment is missing from the submission",
    "XDSRepositoryMetadataError": "the repository refused the metadata; check the document header",
    "XDSDocumentUniqueIdError": "the document is unknown to the DMP (or not visible to you)",
    "DMPAccessDenied": "run the access check (TD0.2) and record the patient's consent (TD0.3)",
    "DMPNotOwner": "only the structure that fed a document may mask, unmask or delete it",
    "DMPInvalidVIHF": "the VIHF token was refused; check the structure signing certificate",
}
