"""Errors of the e-prescription plugin: every one is a :mod:`segur_core.errors` subclass.

Messages never hold a patient identifier or a name; ``hint`` tells the pharmacist what
to do. A prescription id is not a patient identifier (it names a prescription), so
messages may quote it.
"""

from __future__ import annotations

from segur_core.errors import DocumentError, InputError, RemoteServiceError

__all__ = [
    "AlreadyDispensed",
    "DispensationError",
    "EPrescriptionServiceError",
    "PrescriptionFormatError",
    "PrescriptionNotFound",
    "ScanError",
]


class ScanError(InputError):
    """A scanned or typed payload holds no usable prescription id."""


class PrescriptionFormatError(DocumentError):
    """A prescription (an eP-MED-DM CDA or a service answer) is malformed."""


class DispensationError(InputError):
    """The pharmacist's decisions do not fit the prescription (an unknown line, a
    quantity over what remains, a substitution on a non-substitutable line...)."""


class EPrescriptionServiceError(RemoteServiceError):
    """The e-prescription service refused a request or answered something unusable."""


class PrescriptionNotFound(EPrescriptionServiceError):
    """The service knows no prescription with this id."""


class AlreadyDispensed(EPrescriptionServiceError):
    """The prescription was fully dispensed (its renewals included): it is single use."""
