"""The typed facade plugins call the host through (``runtime.host``).

Each method calls one first-result hook of :mod:`segur_core.host.hookspecs` and checks
what the contract makes mandatory, so that a plugin gets a value or a clear
:class:`~segur_core.errors.ConformanceError`, never a silent ``None``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from segur_core.errors import ConformanceError

if TYPE_CHECKING:
    from segur_core.host.paging import PatientPage
    from segur_core.model import (
        Answer,
        Consent,
        Dispensation,
        HealthDocument,
        Patient,
        Practitioner,
        Question,
        ReceivedMessage,
        Structure,
    )

__all__ = ["Host"]


class Host:
    """Typed facade over the host contract (:mod:`segur_core.host.hookspecs`).

    Raises :class:`~segur_core.errors.ConformanceError` when no registered host
    implements a hook, or when a host returns nothing where a value is mandatory.
    """

    __slots__ = ("_hook",)

    def __init__(self, hook: Any) -> None:
        self._hook = hook

    def _call(self, name: str, *, required: bool, **kwargs: Any) -> Any:
        caller = getattr(self._hook, name)
        result = caller(**kwargs)
        if result is None and (required or not caller.get_hookimpls()):
            if not caller.get_hookimpls():
                raise ConformanceError(
                    f"no host implements {name}",
                    hint="register a host implementing segur_core.host.hookspecs",
                )
            raise ConformanceError(f"the host returned nothing from {name}, which is mandatory")
        return result

    def structure(self) -> Structure:
        """The pharmacy (FINESS, name, address)."""
        return self._call("host_structure", required=True)

    def practitioner(self) -> Practitioner:
        """The pharmacist logged in at this workstation."""
        return self._call("host_practitioner", required=True)

    def get_patient(self, patient_id: str) -> Patient | None:
        """One patient by local identifier, or ``None``."""
        return self._call("host_get_patient", required=False, patient_id=patient_id)

    def find_patients(
        self,
        birth_name: str | None = None,
        first_name: str | None = None,
        birth_date: str | None = None,
        ins_matricule: str | None = None,
    ) -> list[Patient]:
        """Patients matching every given criterion."""
        found = self._call(
            "host_find_patients",
            required=True,
            birth_name=birth_name,
            first_name=first_name,
            birth_date=birth_date,
            ins_matricule=ins_matricule,
        )
        return list(found)

    def patients_page(self, cursor: str | None, limit: int) -> PatientPage:
        """One page of every patient (``host_patients_page``), after ``cursor``."""
        return self._call("host_patients_page", required=True, cursor=cursor, limit=limit)

    def iter_patients(self, page_size: int | None = None) -> Iterator[Patient]:
        """Every patient of the host, one page of ``page_size`` at a time, so that
        memory does not grow with the pharmacy; from a host without
        ``host_patients_page``, every patient at once (``host_find_patients``).

        Raises :class:`~segur_core.errors.ConformanceError` when the host's pages do
        not move forward (the same cursor given twice in a row)."""
        from segur_core.host.paging import DEFAULT_PAGE_SIZE, check_limit

        limit = check_limit(page_size or DEFAULT_PAGE_SIZE)
        if not self._hook.host_patients_page.get_hookimpls():
            yield from self.find_patients()
            return
        cursor: str | None = None
        while True:
            page = self.patients_page(cursor, limit)
            yield from page.patients
            if page.next_cursor is None:
                return
            if page.next_cursor == cursor:
                raise ConformanceError("host_patients_page gave the same cursor again")
            cursor = page.next_cursor

    def save_patient(self, patient: Patient) -> Patient:
        """Create or update a patient; returns it as saved."""
        return self._call("host_save_patient", required=True, patient=patient)

    def store_document(self, document: HealthDocument) -> HealthDocument:
        """Store a document (or a new status/version of it)."""
        return self._call("host_store_document", required=True, document=document)

    def get_document(self, document_id: str) -> HealthDocument | None:
        """One stored document, or ``None``."""
        return self._call("host_get_document", required=False, document_id=document_id)

    def list_documents(self, patient_id: str) -> list[HealthDocument]:
        """A patient's documents, oldest first."""
        return list(self._call("host_list_documents", required=True, patient_id=patient_id))

    def store_message(self, message: ReceivedMessage) -> ReceivedMessage:
        """Keep a received message that has no document to integrate (same id replaces)."""
        return self._call("host_store_message", required=True, message=message)

    def get_message(self, message_id: str) -> ReceivedMessage | None:
        """One stored received message, or ``None``."""
        return self._call("host_get_message", required=False, message_id=message_id)

    def dispensations(
        self, patient_id: str, since: dt.datetime | None = None
    ) -> list[Dispensation]:
        """What was dispensed to a patient here, newest first."""
        return list(
            self._call("host_dispensations", required=True, patient_id=patient_id, since=since)
        )

    def record_dispensation(self, dispensation: Dispensation) -> Dispensation:
        """Record a dispensation."""
        return self._call("host_record_dispensation", required=True, dispensation=dispensation)

    def consent(self, patient_id: str, purpose: str) -> Consent | None:
        """The latest consent record for a purpose, or ``None``."""
        return self._call("host_consent", required=False, patient_id=patient_id, purpose=purpose)

    def consent_history(self, patient_id: str) -> list[Consent] | None:
        """Every consent record of the patient, oldest first (``host_consents``), or
        ``None`` from a host that does not keep them at hand (the hook is optional)."""
        if not self._hook.host_consents.get_hookimpls():
            return None
        found = self._hook.host_consents(patient_id=patient_id)
        return None if found is None else list(found)

    def record_consent(self, consent: Consent) -> Consent:
        """Record a consent or an opposition."""
        return self._call("host_record_consent", required=True, consent=consent)

    def decide(self, question: Question) -> Answer:
        """Ask the pharmacist; the answer's key is one of the option keys."""
        answer = self._call("host_decide", required=True, question=question)
        keys = {option.key for option in question.options}
        if keys and answer.key not in keys:
            raise ConformanceError(
                f"host_decide answered {answer.key!r}, not one of the options {sorted(keys)}"
            )
        return answer
