"""Errors of the MSSanté plugin: every one is a :mod:`segur_core.errors` subclass.

Messages never hold a patient identifier (name, INS, address of a patient's mailbox);
``hint`` tells the pharmacist what to do.
"""

from __future__ import annotations

from segur_core.errors import (
    InputError,
    PermanentDeliveryError,
    SecurityError,
    TransientDeliveryError,
    XDMError,  # the core's XDM archives raise it; re-exported for this plugin's callers
)

__all__ = [
    "MSSAuthError",
    "MSSRefused",
    "MSSTransportError",
    "MessageError",
    "MessageTooLarge",
    "XDMError",
]


class MessageError(InputError):
    """A message cannot be built (no qualified INS for a patient's address, a document
    without a CDA header...) or a received message is malformed MIME."""


class MessageTooLarge(MessageError):
    """A message is larger than the configured limit (``[mss] max_message_mb``, 25 MiB
    by default): not sent, or not fetched."""


class MSSAuthError(SecurityError):
    """The mail server refused the authentication (token refused or expired and not
    refreshed, certificate refused): the session ends, nothing is retried with it."""


class MSSTransportError(TransientDeliveryError):
    """The mail server could not be reached, or answered a 4xx: retry later."""

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None):
        super().__init__(message, service="mssante", code=code, hint=hint)


class MSSRefused(PermanentDeliveryError):
    """The mail server refused the message or a recipient for good (5xx): an outcome,
    not something to retry."""

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None):
        super().__init__(message, service="mssante", code=code, hint=hint)
