"""INSi lookups wired to the runtime: journal, host, status machine and events.

:class:`InsService` is what the plugin hooks, the CLI and the batch use. Every INSi
search is journaled (``insi.search``: operation, CR code, outcome, and ``requests`` when
it took several — never a trait or an identifier in the details; the patient goes in
``patient_id``) and every identity change too (``ins.identity``, with the
:class:`~segur_ins.status.Transition` summary).

Write-ahead: an INSi answer is used only once its ``insi.search`` record is committed,
and an identity change is journaled before the host saves it. A crash in between leaves
a record of a change the host never got (the next run makes it again), never a change
without its record. :meth:`InsService.settle` applies many lookups at once with one
journal transaction for all their records: what the batch does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from segur_core.errors import IdentityError, SegurError
from segur_core.model import (
    CardReading,
    Identity,
    IdentityTraits,
    Option,
    Patient,
    Question,
    ReadingSource,
)
from segur_ins import status
from segur_ins.config import InsConfig
from segur_ins.insi import CR_MULTIPLE, CR_OK, InsiClient, InsiError, InsiResult
from segur_ins.lookup import Lookup
from segur_ins.lookup import lookup as insi_lookup
from segur_ins.traits import normalise_traits

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["InsService", "Outcome"]

log = logging.getLogger(__name__)

#: Asked when INSi returns an INS whose key does not check.
_WRONG_KEY = Question(
    kind="ins.wrong-key",
    prompt=(
        "INSi returned an INS whose key does not check (clé erronée). It was not "
        "recorded: the identity keeps its status and cannot be qualified nor "
        "shared. Report the anomaly to the identity vigilance referent."
    ),
    options=(Option("acknowledge", "Understood: the identity stays as it is"),),
    default="acknowledge",
)
#: Asked when INSi finds several identities for the traits (CR 02).
_SEVERAL_IDENTITIES = Question(
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
)


@attrs.frozen
class Outcome:
    """What a qualification did for one patient.

    ``result`` is ``qualified`` (CR 00 applied), ``not-found`` (01), ``multiple`` (02),
    ``ins-key`` (CR 00 with an INS whose key does not check: not adopted, the identity
    stays as it was, the pharmacist is told), ``blocked`` (doubtful/fictitious identity:
    no INSi call), ``already`` (already retrieved, nothing to do) or ``error`` (``code``
    says which).
    """

    result: str
    patient: Patient | None = None
    code: str | None = None
    transition: status.Transition | None = None


class InsService:
    """INSi qualification of patients for one runtime."""

    def __init__(self, runtime: Runtime, config: InsConfig | None = None) -> None:
        self.runtime = runtime
        self.config = config or InsConfig()
        self._client: InsiClient | None = None
        self._workers: Any = None  # segur_ins.workers.LookupWorkers, kept between batches
        self._lock = threading.Lock()

    # -- client --------------------------------------------------------------------------

    @property
    def client(self) -> InsiClient:
        with self._lock:
            if self._client is None:
                from segur_ins.connection import build_client

                self._client = build_client(self.config, self.runtime)
            return self._client

    def workers(self, processes: int, concurrency: int, rate_limit: float = 0.0) -> Any:
        """Worker processes for a batch (:class:`~segur_ins.workers.LookupWorkers`):
        ``concurrency`` request threads spread over ``processes`` workers. Kept for the
        next batch of the same shape; closed with the service."""
        from segur_ins.connection import client_recipe
        from segur_ins.workers import LookupWorkers

        with self._lock:
            if self._workers is not None and self._workers.shape != (
                processes, concurrency, rate_limit
            ):  # fmt: skip
                self._workers.close()
                self._workers = None
            if self._workers is None:
                self._workers = LookupWorkers(
                    client_recipe(self.config, self.runtime), processes=processes,
                    concurrency=concurrency, rate_limit=rate_limit,
                )  # fmt: skip
            return self._workers

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._workers is not None:
                self._workers.close()
                self._workers = None

    # -- INSi calls, journaled -----------------------------------------------------------

    def _journal(self, action: str, **fields: Any) -> None:
        self.runtime.journal.record(action, **fields)

    def lookup(
        self, *, reading: CardReading | None = None, traits: IdentityTraits | None = None
    ) -> Lookup:
        """One INSi search with this service's client (see
        :func:`segur_ins.lookup.lookup`). Safe to call from several threads."""
        return insi_lookup(self.client, reading=reading, traits=traits)

    @staticmethod
    def _lookup_entry(lookup: Lookup, patient_id: str | None) -> dict[str, Any]:
        """The journal record of ``lookup``: ``insi.search`` (answer or failed call), or
        ``ins.qualify`` refused when the traits kept INSi from being called."""
        error = lookup.error
        if isinstance(error, IdentityError):
            return dict(
                action="ins.qualify", outcome="refused", patient_id=patient_id,
                details={"reason": "traits break the RNIV lexical rules"},
            )  # fmt: skip
        if error is not None:
            details = {"operation": lookup.operation, "error": error.code,
                       "transient": error.transient}  # fmt: skip
            return dict(action="insi.search", outcome="error", service="insi",
                        patient_id=patient_id, details=details)  # fmt: skip
        result = lookup.result
        assert result is not None
        details = {"operation": lookup.operation, "cr": result.code,
                   "message_id": result.message_id}  # fmt: skip
        if result.attempts > 1:  # one search, several requests: say how many
            details["requests"] = result.attempts
        return dict(action="insi.search", service="insi", patient_id=patient_id, details=details)

    def search(
        self,
        *,
        reading: CardReading | None = None,
        traits: IdentityTraits | None = None,
        patient_id: str | None = None,
    ) -> InsiResult:
        """One INSi lookup (see :meth:`lookup`), journaled; raises :class:`InsiError`
        (or :class:`IdentityError` for traits breaking the RNIV rules).

        Its record may wait for the next one of the call (``record_later``): a search
        changes nothing, and whatever its caller does next with the answer that must be
        recorded first is, with this record before it (an identity change), in one
        transaction; over ``segur serve``, with ``api.call``, before the answer."""  # fmt: skip
        lookup = self.lookup(reading=reading, traits=traits)
        self.runtime.journal.record_later([self._lookup_entry(lookup, patient_id)])
        if lookup.error is not None:
            raise lookup.error
        assert lookup.result is not None
        return lookup.result

    # -- identity changes ----------------------------------------------------------------

    def change(
        self,
        patient: Patient,
        event: status.IdentityEvent,
        *,
        source: str,
        notify: bool = True,
        message_id: str | None = None,
        reading: ReadingSource | None = None,
    ) -> tuple[Patient, status.Transition]:
        """Apply ``event`` to the patient's identity (a stored patient), journal the
        change, save it and fire ``on_patient_identified``. ``message_id`` links the
        change to the INSi search that caused it (its ``insi.search`` record carries the
        same id); ``reading`` is where the traits came from (carte Vitale, appli carte
        Vitale, typed) when a reading caused it."""
        identity, transition = status.apply(patient.identity, event, at=_now())
        entry = self._change_entry(patient, transition, source, message_id)
        if isinstance(event, status.DocumentChecked):
            entry["details"]["document"] = str(event.document)
        if reading is not None:
            entry["details"]["reading"] = str(reading)
        self.runtime.journal.record_many([entry])  # before the host hears of it
        saved = self._save(attrs.evolve(patient, identity=identity), transition)
        if notify:
            self.runtime.patient_identified(saved, saved.identity, source)
        return saved, transition

    @staticmethod
    def _change_entry(
        patient: Patient, transition: status.Transition, source: str, message_id: str | None
    ) -> dict[str, Any]:
        details = {"source": source, **transition.journal_details()}
        if message_id:
            details["message_id"] = message_id
        return dict(action="ins.identity", patient_id=patient.id, details=details)

    def _save(self, patient: Patient, transition: status.Transition) -> Patient:
        """Save a changed patient; a refused save is journaled (its change was, just
        before) and raised."""
        try:
            return self.runtime.host.save_patient(patient)
        except Exception as exc:
            self._journal(
                "ins.identity", outcome="error", patient_id=patient.id,
                details={"error": type(exc).__name__, "to": str(transition.to_status),
                         "reason": "the host did not save the change"},
            )  # fmt: skip
            raise

    def check_document(
        self, patient: Patient, document: str = "CN", *, reading: ReadingSource | None = None
    ) -> Patient:
        """The pharmacist checked a high-trust document (``CN``, ``PA``, ``AV``...). A
        check the identity refuses (its traits differ from the document's, a doubtful
        identity) is journaled, then raised."""
        event = status.DocumentChecked(document=document)
        try:
            saved, _ = self.change(patient, event, source="document-check", reading=reading)
        except IdentityError as exc:
            self._journal(
                "ins.document-check", outcome="refused", patient_id=patient.id,
                details={"document": str(event.document), "reason": exc.message,
                         "status": str(patient.identity.status)},
            )  # fmt: skip
            raise
        return saved

    def _retrieved(
        self,
        patient: Patient,
        result: InsiResult,
        source: str,
        reading: ReadingSource | None = None,
    ) -> Outcome:
        event = _retrieved_event(result)
        try:
            saved, transition = self.change(
                patient, event, source=source, message_id=result.message_id, reading=reading
            )
        except status.InsKeyError as exc:
            self._journal(**_key_refusal(patient, exc))
            self._ask(_WRONG_KEY, patient)
            return Outcome(_KEY_ERROR, patient, CR_OK)
        return Outcome("qualified", saved, CR_OK, transition)

    # -- qualification -------------------------------------------------------------------

    def qualify(self, patient: Patient, *, interactive: bool = True) -> Outcome:
        """Qualify a stored patient by a traits search (RECUP, or QUAL when the
        identity was already validated)."""
        skipped = self.precheck(patient)
        if skipped is not None:
            return skipped
        lookup = self.lookup(traits=patient.identity.traits)
        return self.settle([(patient, lookup)], interactive=interactive)[0]

    def precheck(self, patient: Patient) -> Outcome | None:
        """The outcome of a patient that must not be searched (``blocked``, journaled as
        refused; ``already`` retrieved), or ``None``."""
        identity = patient.identity
        if status.is_blocked(identity):
            self._journal(
                "ins.qualify", outcome="refused", patient_id=patient.id,
                details={"reason": "doubtful or fictitious identity"},
            )  # fmt: skip
            return Outcome("blocked", patient)
        if status.is_retrieved(identity.status):
            return Outcome("already", patient)
        return None

    def settle(
        self, lookups: Sequence[tuple[Patient, Lookup]], *, interactive: bool = False
    ) -> list[Outcome]:
        """Apply the lookups made for stored patients: one outcome per lookup, in order.

        The records of every lookup and of every identity change they cause are
        appended in one journal transaction, before the host saves anything (see the
        module docstring); then each changed patient is saved and announced. A save the
        host refuses is journaled and gives that patient an ``error`` outcome. Raises
        only when the journal cannot be written (then nothing was saved).
        """
        entries: list[dict[str, Any]] = []
        changes: list[tuple[int, Patient, status.Transition]] = []
        outcomes: list[Outcome] = []
        for patient, lookup in lookups:
            entries.append(self._lookup_entry(lookup, patient.id))
            result = lookup.result
            if lookup.error is not None:
                code = "traits" if isinstance(lookup.error, IdentityError) else lookup.error.code
                outcomes.append(Outcome("error", patient, code))
            elif result is not None and result.found:
                try:
                    identity, transition = status.apply(
                        patient.identity, _retrieved_event(result), at=_now()
                    )
                except status.InsKeyError as exc:  # never adopted, the pharmacist is told
                    entries.append(_key_refusal(patient, exc))
                    outcomes.append(Outcome(_KEY_ERROR, patient, CR_OK))
                    continue
                except IdentityError as exc:  # e.g. marked doubtful meanwhile
                    entries.append(dict(
                        action="ins.qualify", outcome="refused", patient_id=patient.id,
                        details={"reason": exc.message},
                    ))  # fmt: skip
                    outcomes.append(Outcome("error", patient, "refused"))
                    continue
                entries.append(self._change_entry(patient, transition, "insi", result.message_id))
                changed = attrs.evolve(patient, identity=identity)
                changes.append((len(outcomes), changed, transition))
                outcomes.append(Outcome("qualified", patient, CR_OK, transition))
            else:
                assert result is not None
                name = "multiple" if result.code == CR_MULTIPLE else "not-found"
                outcomes.append(Outcome(name, patient, result.code))
        self.runtime.journal.record_many(entries)
        for index, changed, transition in changes:
            try:
                saved = self._save(changed, transition)
            except Exception as exc:
                outcomes[index] = Outcome("error", changed, type(exc).__name__)
                continue
            outcomes[index] = attrs.evolve(outcomes[index], patient=saved)
            self.runtime.patient_identified(saved, saved.identity, "insi")
        if interactive:
            for outcome in outcomes:
                if outcome.result == "multiple":
                    self._ask(_SEVERAL_IDENTITIES, outcome.patient)
                elif outcome.result == _KEY_ERROR:
                    self._ask(_WRONG_KEY, outcome.patient)
        return outcomes

    def _ask(self, question: Question, patient: Patient | None) -> str:
        """The pharmacist's answer to ``question`` about ``patient``."""
        asked = attrs.evolve(question, patient_id=patient.id if patient else None)
        return self.runtime.host.decide(asked).key

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
        if existing is not None and status.is_blocked(existing.identity):
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
            self._ask(_SEVERAL_IDENTITIES, existing)
        if result is not None and result.found:
            created = not patient.id
            if created:
                patient = self.runtime.host.save_patient(patient)
            outcome = self._retrieved(patient, result, "insi", reading.source)
            patient = outcome.patient
            if reading.high_trust:
                patient = self._appli_vitale(patient)
            elif created and outcome.result == _KEY_ERROR:  # the card's identity, PROV
                self.runtime.patient_identified(patient, patient.identity, "card")
            return patient
        if not patient.id:  # provisional identity from the card, announced once
            patient = self.runtime.host.save_patient(patient)
            self._journal(
                "ins.identity", patient_id=patient.id,
                details={"source": "card", "to": str(patient.identity.status),
                         "reading": str(reading.source)},
            )  # fmt: skip
            if reading.high_trust:
                return self._appli_vitale(patient)
            self.runtime.patient_identified(patient, patient.identity, "card")
        return patient

    def _appli_vitale(self, patient: Patient) -> Patient:
        try:
            return self.check_document(patient, "AV", reading=ReadingSource.APCV)
        except (IdentityError, SegurError):
            return patient


_KEY_ERROR = "ins-key"


def _key_refusal(patient: Patient, error: status.InsKeyError) -> dict[str, Any]:
    """The journal record of an INSi answer not adopted because its INS key is wrong."""
    return dict(
        action="ins.qualify", outcome="refused", patient_id=patient.id,
        details={"reason": "INSi returned an INS whose key does not check",
                 "error": type(error).__name__},
    )  # fmt: skip


def _retrieved_event(result: InsiResult) -> status.InsiRetrieved:
    """The status-machine event for an INSi answer that found the person (CR 00)."""
    found = result.identity
    assert found is not None
    history = tuple(h.ins for h in found.history)
    return status.InsiRetrieved(ins=found.ins, traits=found.traits, history=history)


def _now():
    from segur_core.model import utcnow

    return utcnow()
