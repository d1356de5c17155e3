"""Errors of the DP plugin: every one is a :mod:`segur_core.errors` subclass.

Messages never hold a patient identifier (no NIR, no name); ``hint`` says what to do.
"""

from __future__ import annotations

from segur_core.errors import (
    InputError,
    PermanentDeliveryError,
    SecurityError,
    TransientDeliveryError,
)

__all__ = [
    "AlertsPending",
    "ConsentRequired",
    "DPAnswerError",
    "DPRefused",
    "DPUnavailable",
    "NoDossier",
    "PatientKeyError",
]

SERVICE = "dp"


class PatientKeyError(InputError):
    """No usable DP key for the patient: a NIR of the wrong shape or key, or none known."""


class ConsentRequired(SecurityError):
    """The patient's consent to the DP is not recorded, or they refused: nothing is read
    or created. ``refused`` tells the two apart."""

    def __init__(self, message: str, *, refused: bool = False, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.refused = refused


class AlertsPending(SecurityError):
    """DP-Alertes or DP-Rappels are waiting for the pharmacist's acknowledgement: the DP
    blocks work until each one is acknowledged. ``count`` says how many."""

    def __init__(self, count: int) -> None:
        super().__init__(
            f"{count} DP alert(s) or recall(s) to acknowledge before going on",
            hint="run `segur dp alerts` and acknowledge them",
        )
        self.count = count


class DPRefused(PermanentDeliveryError):
    """The DP service refused the request (``code``: ``bad-request``, ``consent-refused``,
    ``unknown-alert``...): the same request will be refused again."""

    def __init__(self, message: str, *, code: str, hint: str | None = None) -> None:
        super().__init__(message, service=SERVICE, code=code, hint=hint)


class NoDossier(DPRefused):
    """The patient has no DP (an unknown id for the DP service)."""

    def __init__(self, message: str = "the patient has no Dossier Pharmaceutique") -> None:
        super().__init__(
            message,
            code="no-dossier",
            hint="with the patient's consent, create it: segur dp create PATIENT",
        )


class DPAnswerError(PermanentDeliveryError):
    """The DP service's answer is not what the protocol says (not JSON, a missing or
    mistyped field, an unknown category): nothing of it is used."""

    def __init__(self, message: str) -> None:
        super().__init__(message, service=SERVICE, code="malformed-answer")


class DPUnavailable(TransientDeliveryError):
    """The DP service could not be reached, timed out or answered 5xx: retry later."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, service=SERVICE, code=code)
