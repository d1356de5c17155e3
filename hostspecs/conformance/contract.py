"""The contract checker: calls a host through pluggy as segur does, and checks each answer.

Every call goes through a real pluggy ``PluginManager`` with the contract's specs, so a
host that would break the runtime (wrong argument names, missing hook, wrong return
type) fails here with a :class:`~segur_core.errors.ConformanceError` naming the hook
and what was expected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pluggy

from segur_core.errors import ConformanceError
from segur_core.host import hookspecs
from segur_core.host.paging import CursorError, PatientPage
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

__all__ = ["Contract"]


def _describe(value: object) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"


class Contract:
    """A host registered in its own plugin manager, with one checked method per hook."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.pm = pluggy.PluginManager("segur")
        self.pm.add_hookspecs(hookspecs)
        try:
            self.pm.register(host, name="host")
        except pluggy.PluginValidationError as error:
            raise ConformanceError(f"the host cannot be registered: {error}") from error
        self.pm.check_pending()

    def missing_hooks(self) -> list[str]:
        """The contract hooks the host does not implement (optional ones aside)."""
        return [
            name
            for name in hookspecs.HOST_HOOKS
            if name not in hookspecs.OPTIONAL_HOST_HOOKS and not self.implements(name)
        ]

    def implements(self, name: str) -> bool:
        """Whether the host implements the hook ``name``."""
        return bool(getattr(self.pm.hook, name).get_hookimpls())

    def _call(self, name: str, expected: type | tuple[type, ...], optional: bool, **kwargs: Any):
        if not getattr(self.pm.hook, name).get_hookimpls():
            raise ConformanceError(f"{name}: not implemented by the host")
        try:
            result = getattr(self.pm.hook, name)(**kwargs)
        except Exception as error:
            raise ConformanceError(f"{name}: raised {type(error).__name__}: {error}") from error
        if result is None and optional:
            return None
        if result is None:
            raise ConformanceError(f"{name}: returned None, expected {_names(expected)}")
        if not isinstance(result, expected):
            raise ConformanceError(
                f"{name}: returned {_describe(result)}, expected {_names(expected)}"
            )
        return result

    def _call_list(self, name: str, item: type, **kwargs: Any) -> list[Any]:
        result = self._call(name, (list, tuple), False, **kwargs)
        for position, value in enumerate(result):
            if not isinstance(value, item):
                raise ConformanceError(
                    f"{name}: item {position} is {_describe(value)}, expected {item.__name__}"
                )
        return list(result)

    # -- one method per hook ----------------------------------------------------------------

    def structure(self) -> Structure:
        return self._call("host_structure", Structure, False)

    def practitioner(self) -> Practitioner:
        return self._call("host_practitioner", Practitioner, False)

    def get_patient(self, patient_id: str) -> Patient | None:
        return self._call("host_get_patient", Patient, True, patient_id=patient_id)

    def find_patients(
        self,
        birth_name: str | None = None,
        first_name: str | None = None,
        birth_date: str | None = None,
        ins_matricule: str | None = None,
    ) -> list[Patient]:
        return self._call_list(
            "host_find_patients",
            Patient,
            birth_name=birth_name,
            first_name=first_name,
            birth_date=birth_date,
            ins_matricule=ins_matricule,
        )

    def patients_page(self, cursor: str | None, limit: int) -> PatientPage:
        """One page; a :class:`~segur_core.host.CursorError` is the contract's answer to
        a cursor the host did not give, and goes through as it is."""
        try:
            page = self._call("host_patients_page", PatientPage, False, cursor=cursor, limit=limit)
        except ConformanceError as error:
            if isinstance(error.__cause__, CursorError):
                raise error.__cause__ from None
            raise
        for position, value in enumerate(page.patients):
            if not isinstance(value, Patient):
                raise ConformanceError(
                    f"host_patients_page: item {position} is {_describe(value)}, expected Patient"
                )
        return page

    def save_patient(self, patient: Patient) -> Patient:
        return self._call("host_save_patient", Patient, False, patient=patient)

    def store_document(self, document: HealthDocument) -> HealthDocument:
        return self._call("host_store_document", HealthDocument, False, document=document)

    def get_document(self, document_id: str) -> HealthDocument | None:
        return self._call("host_get_document", HealthDocument, True, document_id=document_id)

    def list_documents(self, patient_id: str) -> list[HealthDocument]:
        return self._call_list("host_list_documents", HealthDocument, patient_id=patient_id)

    def store_message(self, message: ReceivedMessage) -> ReceivedMessage:
        return self._call("host_store_message", ReceivedMessage, False, message=message)

    def get_message(self, message_id: str) -> ReceivedMessage | None:
        return self._call("host_get_message", ReceivedMessage, True, message_id=message_id)

    def dispensations(
        self, patient_id: str, since: dt.datetime | None = None
    ) -> list[Dispensation]:
        return self._call_list(
            "host_dispensations", Dispensation, patient_id=patient_id, since=since
        )

    def record_dispensation(self, dispensation: Dispensation) -> Dispensation:
        return self._call(
            "host_record_dispensation", Dispensation, False, dispensation=dispensation
        )

    def consent(self, patient_id: str, purpose: str) -> Consent | None:
        return self._call("host_consent", Consent, True, patient_id=patient_id, purpose=purpose)

    def consents(self, patient_id: str) -> list[Consent] | None:
        """Every consent record (optional hook; ``None``: not kept at hand)."""
        found = self._call("host_consents", (list, tuple), True, patient_id=patient_id)
        for position, value in enumerate(found or ()):
            if not isinstance(value, Consent):
                raise ConformanceError(
                    f"host_consents: item {position} is {_describe(value)}, expected Consent"
                )
        return None if found is None else list(found)

    def record_consent(self, consent: Consent) -> Consent:
        return self._call("host_record_consent", Consent, False, consent=consent)

    def decide(self, question: Question) -> Answer:
        return self._call("host_decide", Answer, False, question=question)


def _names(expected: type | Sequence[type]) -> str:
    if isinstance(expected, type):
        return expected.__name__
    return " or ".join(t.__name__ for t in expected)
