"""INSi lookups wired to the runtime: journal, host, status machine and events.

:class:`InsService` is what the plugin hooks, the CLI and the batch use. Every INSi
call is journaled (``insi.search``: operation, CR code, outcome — never a trait or an
identifier in the details; the patient goes in ``patient_id``) and every identity change
too (``ins.identity``, with the :class:`~segur_ins.status.Transition` summary).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import attrs

from segur_core.errors import IdentityError, SegurError
from segur_core.model import (
    CardReading,
    Identity,
    IdentityAttribute,
    IdentityTraits,
    Option,
    Patient,
    Question,
)
from segur_ins import status
from segur_ins.config import InsConfig
from segur_ins.insi import CR_MULTIPLE, CR_NOT_FOUND, CR_OK, InsiClient, InsiError, InsiResult
from segur_ins.insi.client import uses_vitale_operation
from segur_ins.traits import normalise_traits

__all__ = ["InsService", "Outcome"]

log = logging.getLogger(__name__)

_BLOCKING = frozenset({IdentityAttribute.DOUBTFUL, IdentityAttribute.FICTITIOUS})


@attrs.frozen
class Outcome:
    """What a qualification did for one patient.

    ``result`` is ``qualified`` (CR 00 applied), ``not-found`` (01), ``multiple`` (02),
    ``blocked`` (doubtful/fictitious identity: no INSi call), ``already`` (already
    retrieved, nothing to do) or ``error`` (``code`` says which).
    """

    result: str
    patient: Patient | None = None
    code: str | None = None
    transition: status.Transition | None = None


class InsService:
    """INSi qualification of patients for one runtime."""

    def __init__(self, runtime: Any, config: InsConfig | None = None) -> None:
        self.runtime = runtime
        self.config = config or InsConfig()
        self._client: InsiClient | None = None
        self._lock = threading.Lock()

    # -- client --------------------------------------------------------------------------

    @property
    def client(self) -> InsiClient:
        with self._lock:
            if self._client is None:
                from segur_ins.connection import build_client

                self._client = build_client(self.config, self.runtime)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- INSi calls, journaled -----------------------------------------------------------

    def _journal(self, action: str, **fields: Any) -> None:
        self.runtime.journal.record(action, **fields)

    def search(
        self, *, reading: CardReading | None = None, traits: IdentityTraits | None = None,
        patient_id: str | None = None, slot: Any = None,
    ) -> InsiResult:
        """One INSi lookup (Vitale operation for a NIR read from a card, else traits with
        the first-name strategy), journaled. Raises :class:`InsiError`.

        ``slot`` (a context manager, e.g. a semaphore) is held only while INSi is being
        called: the batch bounds its in-flight requests with it, not its bookkeeping.
        """
        if slot is not None:
            with slot:
                return self._search(reading, traits, patient_id)
        return self._search(reading, traits, patient_id)

    def _search(
        self, reading: CardReading | None, traits: IdentityTraits | None, patient_id: str | None
    ) -> InsiResult:
        by_card = reading is not None and uses_vitale_operation(reading)
        operation = "rechercherInsAvecCarteVitale" if by_card else (
            "rechercherInsAvecTraitsIdentite")  # fmt: skip
        try:
            if reading is not None:
                result = self.client.lookup_reading(reading)
                if by_card and result.code == CR_NOT_FOUND:
                    result = self.client.lookup_traits(reading.traits)
                    operation = "rechercherInsAvecTraitsIdentite"
            else:
                assert traits is not None
                result = self.client.lookup_traits(traits)
        except InsiError as exc:
            self._journal(
                "insi.search",
                outcome="error",
                service="insi",
                patient_id=patient_id,
                details={"operation": operation, "error": exc.code, "transient": exc.transient},
            )
            raise
        self._journal(
            "insi.search",
            service="insi",
            patient_id=patient_id,
            details={"operation": operation, "cr": result.code, "message_id": result.message_id},
        )
        return result

    # -- identity changes ----------------------------------------------------------------

    def change(
        self,
        patient: Patient,
        event: status.IdentityEvent,
        *,
        source: str,
        notify: bool = True,
        message_id: str | None = None,
    ) -> tuple[Patient, status.Transition]:
        """Apply ``event`` to the patient's identity, save, journal and fire
        ``on_patient_identified``. ``message_id`` links the change to the INSi search
        that caused it (its ``insi.search`` journal record carries the same id)."""
        identity, transition = status.apply(patient.identity, event, at=_now())
        saved = self.runtime.host.save_patient(attrs.evolve(patient, identity=identity))
        details = {"source": source, **transition.journal_details()}
        if message_id:
            details["message_id"] = message_id
        self._journal("ins.identity", patient_id=saved.id, details=details)
        if notify:
            self.runtime.patient_identified(saved, saved.identity, source)
        return saved, transition

    def check_document(self, patient: Patient, document: str = "CN") -> Patient:
        """The pharmacist checked a high-trust document (``CN``, ``PA``, ``AV``...)."""
        saved, _ = self.change(
            patient, status.DocumentChecked(document=document), source="document-check"
        )
        return saved

    def _retrieved(self, patient: Patient, result: InsiResult, source: str) -> Outcome:
        found = result.identity
        assert found is not None
        event = status.InsiRetrieved(
            ins=found.ins, traits=found.traits, history=tuple(h.ins for h in found.history)
        )
        saved, transition = self.change(
            patient, event, source=source, message_id=result.message_id
        )
        return Outcome("qualified", saved, CR_OK, transition)

    # -- qualification -------------------------------------------------------------------

    def qualify(
        self, patient: Patient, *, interactive: bool = True, slot: Any = None
    ) -> Outcome:
        """Qualify a stored patient by a traits search (RECUP, or QUAL when the
        identity was already validated). ``slot``: see :meth:`search`."""
        identity = patient.identity
        if identity.attributes & _BLOCKING:
            self._journal(
                "ins.qualify", outcome="refused", patient_id=patient.id,
                details={"reason": "doubtful or fictitious identity"},
            )  # fmt: skip
            return Outcome("blocked", patient)
        if status.is_retrieved(identity.status):
            return Outcome("already", patient)
        try:
            result = self.search(traits=identity.traits, patient_id=patient.id, slot=slot)
        except InsiError as exc:
            return Outcome("error", patient, exc.code)
        except IdentityError:
            self._journal(
                "ins.qualify", outcome="refused", patient_id=patient.id,
                details={"reason": "traits break the RNIV lexical rules"},
            )  # fmt: skip
            return Outcome("error", patient, "traits")
        if result.code == CR_OK:
            return self._retrieved(patient, result, "insi")
        if result.code == CR_MULTIPLE and interactive:
            self._ask_several(patient)
        result_name = "multiple" if result.code == CR_MULTIPLE else "not-found"
        return Outcome(result_name, patient, result.code)

    def _ask_several(self, patient: Patient | None) -> str:
        question = Question(
            kind="ins.several-identities",
            prompt=(
                "INSi found several identities for these traits. Check the traits with the "
                "patient (all birth first names, birthplace) and search again, or keep the "
                "identity provisional."
            ),
            options=(
                Option("provisional", "Keep the identity provisional"),
                Option("retry", "Correct the traits and search again"),
            ),
            default="provisional",
            patient_id=patient.id if patient else None,
        )
        return self.runtime.host.decide(question).key

    # -- card reading --------------------------------------------------------------------

    def _find_existing(
        self, reading: CardReading, result: InsiResult | None, *, by_traits: bool = True
    ) -> Patient | None:
        """The pharmacy's patient for this reading: by the INS INSi returned, else by
        birth name, first name and birth date; the pharmacist picks among several."""
        host = self.runtime.host
        candidates: list[Patient] = []
        if result is not None and result.found:
            candidates = host.find_patients(ins_matricule=result.identity.ins.matricule)
        if not candidates and by_traits:
            try:
                traits = normalise_traits(reading.traits)
            except IdentityError:
                traits = reading.traits
            candidates = host.find_patients(
                birth_name=traits.birth_name,
                first_name=traits.first_name or None,
                birth_date=str(traits.birth_date),
            )
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        question = Question(
            kind="ins.choose-patient",
            prompt="Several patients of the pharmacy match this card. Which one is it?",
            options=(
                *(Option(p.id, f"Patient {p.id} ({p.identity.status})") for p in candidates),
                Option("new", "A new patient"),
            ),
            default=candidates[0].id,
        )
        key = host.decide(question).key
        return next((p for p in candidates if p.id == key), None)

    def identify(self, reading: CardReading) -> Patient | None:
        """``on_card_read``: look the reading up in INSi, find or create the patient,
        apply the result, save and announce it. Returns the saved patient."""
        try:
            normal = normalise_traits(reading.traits)
        except IdentityError:
            normal = reading.traits
        existing = self._find_existing(reading, None)
        if existing is not None and existing.identity.attributes & _BLOCKING:
            self._journal(
                "ins.qualify", outcome="refused", patient_id=existing.id,
                details={"reason": "doubtful or fictitious identity"},
            )  # fmt: skip
            return existing
        if existing is not None and status.is_retrieved(existing.identity.status):
            patient = existing
            if self.config.verify_at_each_act:
                from segur_ins.verification import verify

                patient = verify(self, existing).patient
            if reading.high_trust and not status.is_checked(patient.identity.status):
                patient = self._appli_vitale(patient)
            return patient
        try:
            result = self.search(reading=reading, patient_id=existing.id if existing else None)
        except InsiError as exc:
            log.warning("INSi lookup failed (%s); the identity stays as it is", exc.code)
            result = None
        if result is not None and result.found and existing is None:
            existing = self._find_existing(reading, result, by_traits=False)
        patient = existing or Patient(id="", identity=Identity(traits=normal))
        if result is not None and result.code == CR_MULTIPLE:
            self._ask_several(existing)
        if result is not None and result.found:
            if not patient.id:
                patient = self.runtime.host.save_patient(patient)
            outcome = self._retrieved(patient, result, "insi")
            patient = outcome.patient
            if reading.high_trust:
                patient = self._appli_vitale(patient)
            return patient
        if not patient.id:  # provisional identity from the card, announced once
            patient = self.runtime.host.save_patient(patient)
            self._journal(
                "ins.identity", patient_id=patient.id,
                details={"source": "card", "to": str(patient.identity.status)},
            )  # fmt: skip
            if reading.high_trust:
                return self._appli_vitale(patient)
            self.runtime.patient_identified(patient, patient.identity, "card")
        return patient

    def _appli_vitale(self, patient: Patient) -> Patient:
        try:
            return self.check_document(patient, "AV")
        except (IdentityError, SegurError):
            return patient


def _now():
    from segur_core.model import utcnow

    return utcnow()
