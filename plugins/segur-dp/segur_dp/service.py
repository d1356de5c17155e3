"""The DP service of a runtime: the pharmacy's use of the Dossier Pharmaceutique.

- :meth:`DPService.history`: the patient's DP history, per category as deep as
  ``[dp.depth]`` says (or less), after the patient's consent was checked with the host
  (``host_consent``) and every pending alert acknowledged;
- :meth:`DPService.create`: open the patient's DP with their consent, or record their
  refusal with the DP;
- :meth:`DPService.record`: queue a dispensation for the DP through the outbox (sent
  once, whatever the outages: the DP dedupes on the key);
- :meth:`DPService.alerts`: poll DP-Alertes and DP-Rappels, and ask the pharmacist
  (``host_decide``) to acknowledge each; work stops (:class:`AlertsPending`) while one
  is not acknowledged.

Every access is journalled (action ``dp.*``) with the host's patient id only; no NIR
or NDP reaches a log, a journal detail or an error message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import attrs

from segur_core.model import CardReading, Consent, Dispensation, Option, Question
from segur_dp.adapter import DPAdapter
from segur_dp.codec import line_from_json, line_to_json
from segur_dp.config import DPConfig
from segur_dp.depth import Category
from segur_dp.errors import AlertsPending, ConsentRequired, PatientKeyError
from segur_dp.model import (
    Alert,
    DispensationRecord,
    Dossier,
    DPPatient,
    HistoryLine,
    check_ndp,
    check_nir,
)

__all__ = [
    "ACK_QUESTION",
    "RECORD_KIND",
    "AlertOutcome",
    "DPService",
    "host_problems",
    "service_for",
]

NAME = "dp"
#: The outbox kind of a dispensation written into the DP.
RECORD_KIND = "dp.dispensation"
#: The ``Question.kind`` asking the pharmacist to acknowledge an alert or recall.
ACK_QUESTION = "dp.acknowledge-alert"
_NIR_OIDS = frozenset({"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"})


@attrs.frozen
class AlertOutcome:
    """One alert or recall and whether the pharmacist acknowledged it (and who)."""

    alert: Alert
    acknowledged: bool
    decided_by: str | None = None


class DPService:
    """The DP for one runtime, through ``adapter`` (see :func:`service_for`)."""

    def __init__(self, runtime: Any, config: DPConfig, adapter: DPAdapter) -> None:
        self.runtime = runtime
        self.config = config
        self.adapter = adapter

    def close(self) -> None:
        close = getattr(self.adapter, "close", None)
        if callable(close):
            close()

    # -- who ----------------------------------------------------------------------------

    def _pharmacy(self) -> str:
        return str(self.runtime.host.structure().finess)

    def _journal(self, action: str, patient_id: str | None, outcome: str = "ok", **details):
        self.runtime.journal.record(
            action, outcome=outcome, service=NAME, patient_id=patient_id,
            actor=f"plugin:{NAME}", details=details or None,
        )  # fmt: skip

    def patient(
        self, patient_id: str, reading: CardReading | None = None, ndp: str | None = None
    ) -> DPPatient:
        """The DP key of the host's patient: their NDP when given (the host keeps the one
        :meth:`create` returned), else the NIR of ``reading`` (carte Vitale, ApCV), else
        the NIR of their INS."""
        if ndp is not None:
            return DPPatient.by_ndp(check_ndp(ndp), patient_id)
        if reading is not None:
            return DPPatient.from_reading(reading, patient_id)
        patient = self.runtime.host.get_patient(patient_id)
        if patient is None:
            raise PatientKeyError("unknown patient", hint="check the patient's local id")
        ins = patient.identity.ins
        if ins is None or ins.oid not in _NIR_OIDS:
            raise PatientKeyError(
                "no NIR known for this patient", hint="read the patient's carte Vitale"
            )
        return DPPatient(check_nir(ins.matricule), patient_id=patient_id)

    def _consented(self, patient_id: str) -> None:
        consent = self.runtime.host.consent(patient_id, self.config.consent_purpose)
        if consent is None or not consent.granted:
            self._journal("dp.consent-missing", patient_id, "refused")
            raise ConsentRequired(
                "the patient refused access to their DP"
                if consent is not None
                else "the patient's consent to access their DP is not recorded",
                refused=consent is not None,
                hint="ask the patient, then record their answer in the patient file",
            )

    # -- history ------------------------------------------------------------------------

    def history(
        self,
        patient_id: str,
        *,
        months: int | None = None,
        reading: CardReading | None = None,
        ndp: str | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[HistoryLine, ...]:
        """The patient's DP history, newest first, each category as deep as
        ``[dp.depth]`` (capped at ``months`` when given); read by ``ndp`` when the host
        has one for the patient (no card, no INS needed)."""
        self.require_acknowledged()
        key = self.patient(patient_id, reading, ndp)
        self._consented(patient_id)
        depth = self.config.depth.capped(months)
        moment = now or dt.datetime.now(dt.UTC)
        since = {c: depth.since(c, moment) for c in Category}
        try:
            lines = self.adapter.history(key, since)
        except Exception as exc:
            self._journal("dp.history", patient_id, "failed", error=type(exc).__name__, by=_by(key))
            raise
        self._journal(
            "dp.history", patient_id, lines=len(lines), by=_by(key),
            depth_months={c.value: depth.months(c) for c in Category},
        )  # fmt: skip
        return lines

    # -- creation -----------------------------------------------------------------------

    def create(self, patient_id: str, *, reading: CardReading | None = None) -> Dossier:
        """Open the patient's DP if they consented (``host_consent``), or record their
        refusal with the DP: the status (``"created"``, ``"exists"`` or ``"refused"``)
        and the dossier's NDP, for the host to keep and give to :meth:`history`."""
        consent = self.runtime.host.consent(patient_id, self.config.consent_purpose)
        if consent is None:
            self._journal("dp.consent-missing", patient_id, "refused")
            raise ConsentRequired(
                "the patient's consent to open a DP is not recorded",
                hint="ask the patient, then record their answer in the patient file",
            )
        key = self.patient(patient_id, reading)
        dossier = self.adapter.create(key, consent=consent.granted, pharmacy=self._pharmacy())
        self._journal("dp.create", patient_id, "refused" if dossier.status == "refused" else "ok",
                      status=dossier.status, ndp_returned=dossier.ndp is not None)  # fmt: skip
        return dossier

    def record_consent(self, patient_id: str, granted: bool, *, by: str | None = None) -> Consent:
        """Record the patient's answer with the host (``host_record_consent``) and
        journal it (``dp.consent``: the consent history of a host that keeps none)."""
        consent = Consent(patient_id, self.config.consent_purpose, granted, recorded_by=by)
        recorded = self.runtime.host.record_consent(consent)
        self._journal(
            "dp.consent", patient_id, purpose=consent.purpose, granted=granted, recorded_by=by
        )
        return recorded

    # -- dispensations ------------------------------------------------------------------

    def record(
        self,
        dispensation: Dispensation,
        *,
        category: Category = Category.ORDINARY,
        reading: CardReading | None = None,
    ) -> Any:
        """Queue ``dispensation`` for the patient's DP (outbox kind ``dp.dispensation``);
        idempotent: the same dispensation is queued, and written, once."""
        key = self.patient(dispensation.patient_id, reading)
        self._consented(dispensation.patient_id)
        line = HistoryLine(
            dispensed_at=dispensation.dispensed_at,
            category=category,
            product_code=dispensation.product_code,
            label=dispensation.label,
            quantity=dispensation.quantity,
            pharmacy=self.runtime.host.structure().name,
        )
        ident = hashlib.sha256(
            json.dumps(
                [dispensation.patient_id, line.dispensed_at.isoformat(), line.product_code,
                 line.quantity, dispensation.prescription_id],
            ).encode()
        ).hexdigest()[:32]  # fmt: skip
        payload = {"key": f"dp:{ident}", "nir": key.nir, "rank": key.rank,
                   "line": line_to_json(line)}  # fmt: skip
        delivery = self.runtime.outbox.enqueue(
            RECORD_KIND, payload["key"], json.dumps(payload).encode(),
            patient_id=dispensation.patient_id,
        )  # fmt: skip
        self._journal("dp.dispensation-queued", dispensation.patient_id, delivery=delivery.id)
        return delivery

    def record_from_host(self, patient_id: str, since: dt.datetime | None = None) -> list[Any]:
        """Queue what the host says was dispensed to the patient (``host_dispensations``)
        since ``since``: each one once, however often this runs."""
        return [self.record(d) for d in self.runtime.host.dispensations(patient_id, since)]

    def send(self, item: Any) -> str:
        """The outbox sender of ``dp.dispensation``: write one dispensation into the DP."""
        data = json.loads(item.payload)
        record = DispensationRecord(
            key=data["key"],
            patient=DPPatient(data["nir"], rank=data["rank"]),
            line=line_from_json(data["line"]),
        )
        return self.adapter.record(record, pharmacy=self._pharmacy())

    # -- alerts and recalls -------------------------------------------------------------

    def pending_alerts(self) -> tuple[Alert, ...]:
        return self.adapter.alerts(pharmacy=self._pharmacy())

    def alerts(self) -> list[AlertOutcome]:
        """Poll the DP-Alertes and DP-Rappels, ask the pharmacist to acknowledge each
        (``host_decide``, question ``dp.acknowledge-alert``) and acknowledge with the DP
        those they did; every acknowledgement is journalled."""
        pharmacy = self._pharmacy()
        practitioner = self.runtime.host.practitioner()
        outcomes = []
        for alert in self.pending_alerts():
            kind = "Rappel de lot" if alert.kind.value == "recall" else "Alerte sanitaire"
            answer = self.runtime.host.decide(
                Question(
                    kind=ACK_QUESTION,
                    prompt=f"{kind} — {alert.title}\n{alert.body}".strip(),
                    options=(
                        Option("acknowledge", "J'ai pris connaissance"),
                        Option("later", "Plus tard (le travail reste bloqué)"),
                    ),
                )
            )
            done = answer.key == "acknowledge"
            if done:
                self.adapter.acknowledge(alert.id, pharmacy=pharmacy, by=practitioner.rpps)
            self._journal(
                "dp.alert-acknowledged" if done else "dp.alert-postponed", None,
                alert=alert.id, kind=alert.kind.value, decided_by=answer.decided_by,
            )  # fmt: skip
            outcomes.append(AlertOutcome(alert, done, answer.decided_by))
        return outcomes

    def require_acknowledged(self) -> None:
        """Go on only when no alert or recall waits: each pending one is put to the
        pharmacist; :class:`AlertsPending` if one stays unacknowledged."""
        left = sum(1 for outcome in self.alerts() if not outcome.acknowledged)
        if left:
            raise AlertsPending(left)


def _by(key: DPPatient) -> str:
    """Which key a DP access used, for the journal (never the key itself)."""
    return "ndp" if key.ndp is not None else "nir"


def host_problems(host: Any) -> list[str]:
    """What the DP needs from the host and does not get: the pharmacy's FINESS (who
    records and acknowledges) and the pharmacist's RPPS (who acknowledged an alert)."""
    problems = []
    finess = host.structure().finess or ""
    if len(finess) != 9 or not finess.isalnum():
        problems.append("host_structure: finess is not 9 characters (the DP's pharmacy id)")
    rpps = host.practitioner().rpps or ""
    if len(rpps) != 11 or not rpps.isdigit():
        problems.append(
            "host_practitioner: rpps is not 11 digits (who acknowledges DP alerts and recalls)"
        )
    return problems


def service_for(runtime: Any, adapter: DPAdapter | None = None) -> DPService:
    """The runtime's DP service (one per runtime, closed with it): ``adapter``, or the
    HTTPS adapter to ``[dp] endpoint`` (the sandbox by default)."""

    def make() -> DPService:
        config: DPConfig = runtime.plugin_config(NAME)
        if adapter is not None:
            return DPService(runtime, config, adapter)
        from segur_dp.connection import build_adapter

        return DPService(runtime, config, build_adapter(config, runtime))

    return runtime.service(NAME, make)
