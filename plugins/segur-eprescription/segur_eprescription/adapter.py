"""The adapter boundary to the e-prescription service (§5.2 of the reference).

The CNAM's service (transport, payloads, status and error codes) is not public: the
plugin talks to an :class:`EPrescriptionGateway`, and ships one implementation, the
HTTPS client of the sandbox wire (:class:`~segur_eprescription.client.HttpsGateway`).
A gateway for the official service plugs in here once its specification is available.
"""

from __future__ import annotations

from typing import Protocol

import attrs

from segur_eprescription.dispensation import DispensationReport
from segur_eprescription.models import EPrescription

__all__ = ["Ack", "EPrescriptionGateway", "Fetched"]


@attrs.frozen
class Fetched:
    """A prescription as the service gave it, with its dispensation state: ``done`` of
    ``allowed`` dispensations (``1 + renewals``) closed, ``open`` when a sequenced
    dispensation is under way."""

    prescription: EPrescription
    done: int = 0
    allowed: int = 1
    open: bool = False

    @property
    def renewal(self) -> int:
        """0 for the first dispensation, then the rank of the renewal."""
        return self.done


@attrs.frozen
class Ack:
    """The service's acknowledgement of a dispensation report."""

    ack: str
    done: int
    allowed: int
    open: bool = False
    duplicate: bool = False


class EPrescriptionGateway(Protocol):
    """What the plugin needs from the e-prescription service."""

    def get_prescription(self, prescription_id: str) -> Fetched:
        """The prescription, or :class:`~segur_eprescription.errors.PrescriptionNotFound`
        / :class:`~segur_eprescription.errors.AlreadyDispensed`."""
        ...

    def record_dispensation(self, report: DispensationReport) -> Ack:
        """Record a dispensation; idempotent on ``report.report_id``."""
        ...

    def close(self) -> None: ...
