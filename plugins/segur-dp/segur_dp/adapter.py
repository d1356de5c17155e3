"""The boundary between segur and a Dossier Pharmaceutique service.

The DP protocol is **not public**: the CNOP approves each connection against a
specification it does not publish, and no open-source client is known. segur therefore
defines what a pharmacy needs from the DP as this protocol, and ships one implementation,
:class:`~segur_dp.https.HttpsAdapter`, which speaks the local sandbox's own protocol. An
approved DP connector plugs in by implementing :class:`DPAdapter` (and
:func:`segur_dp.service.service_for` accepts it).

Every method raises the typed errors of :mod:`segur_dp.errors`: :class:`NoDossier` for an
unknown patient, :class:`DPRefused` for a refusal, :class:`DPAnswerError` for an answer
out of protocol, :class:`DPUnavailable` for an outage (retry later).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from segur_dp.depth import Category
from segur_dp.model import Alert, DispensationRecord, Dossier, DPPatient, HistoryLine

__all__ = ["DPAdapter"]


@runtime_checkable
class DPAdapter(Protocol):
    """What segur asks of a DP service. ``pharmacy`` is the structure's FINESS."""

    def history(
        self, patient: DPPatient, since: Mapping[Category, dt.datetime]
    ) -> tuple[HistoryLine, ...]:
        """The patient's dispensations of each category since its date, newest first
        (the patient known by their NDP when ``patient.ndp`` is given, else their NIR)."""
        ...

    def create(self, patient: DPPatient, *, consent: bool, pharmacy: str) -> Dossier:
        """Open the patient's DP with their consent (status ``"created"``, or
        ``"exists"``, with the dossier's NDP); a refusal (``consent=False``) is recorded
        by the DP and answered ``"refused"`` (no NDP)."""
        ...

    def record(self, record: DispensationRecord, *, pharmacy: str) -> str:
        """Write one dispensation (``"recorded"``, or ``"duplicate"`` when ``record.key``
        was written before: the same key is never written twice)."""
        ...

    def alerts(self, *, pharmacy: str) -> tuple[Alert, ...]:
        """The DP-Alertes and DP-Rappels this pharmacy has not acknowledged yet."""
        ...

    def acknowledge(self, alert_id: str, *, pharmacy: str, by: str) -> None:
        """Acknowledge one alert or recall for this pharmacy (``by``: the pharmacist)."""
        ...
