"""The host contract: hooks the LGO (the host software) implements.

segur never owns the pharmacy's data: patients, documents, dispensations and consents
live in the host's database. The host implements these first-result hooks once (the
:mod:`hostspecs.reference` SQLite host is the default, see
:data:`segur_core.host.DEFAULT_HOST_FACTORY`) and registers the implementation with the
runtime. Plugins reach them through the typed :class:`segur_core.host.Host` facade,
never directly.

Run ``pytest --pyargs hostspecs.conformance --host-factory=module:function`` to check
an implementation against this contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

from segur_core.hookspecs import PROJECT

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

hostspec = pluggy.HookspecMarker(PROJECT)
#: Marks a host's implementation of a contract hook (the same marker as ``hookimpl``).
hostimpl = pluggy.HookimplMarker(PROJECT)

#: Every hook of the contract; a conforming host implements all of them but the
#: :data:`OPTIONAL_HOST_HOOKS`.
HOST_HOOKS = (
    "host_structure",
    "host_practitioner",
    "host_get_patient",
    "host_find_patients",
    "host_patients_page",
    "host_save_patient",
    "host_store_document",
    "host_get_document",
    "host_list_documents",
    "host_store_message",
    "host_get_message",
    "host_dispensations",
    "host_record_dispensation",
    "host_consent",
    "host_consents",
    "host_record_consent",
    "host_decide",
)

#: Hooks a host may leave out: segur then does without (``host_patients_page``: every
#: patient at once from ``host_find_patients``; ``host_consents``: the latest consent
#: per purpose, and the changes segur journaled).
OPTIONAL_HOST_HOOKS = ("host_patients_page", "host_consents")


@hostspec(firstresult=True)
def host_structure() -> Structure:
    """The pharmacy: FINESS, name, address, activity sector.

    Called whenever a document or a message needs the structure's identity.

    :return: a :class:`~segur_core.model.Structure`.

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_practitioner() -> Practitioner:
    """The pharmacist logged in at this workstation (RPPS, profession, role).

    Called for each act that is signed or journaled in a professional's name.

    :return: a :class:`~segur_core.model.Practitioner`.

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_get_patient(patient_id: str) -> Patient | None:
    """One patient by the host's local identifier.

    :return: the patient, or ``None`` when unknown.

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_find_patients(
    birth_name: str | None,
    first_name: str | None,
    birth_date: str | None,
    ins_matricule: str | None,
) -> Sequence[Patient]:
    """Patients matching every given criterion (``None`` criteria are ignored).

    Names match case-insensitively on the whole value; ``birth_date`` is ``YYYY-MM-DD``;
    ``ins_matricule`` matches the current INS of the patient.

    :return: the matching patients (possibly empty), ordered by local identifier.

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_patients_page(cursor: str | None, limit: int) -> PatientPage:
    """One page of every patient of the host, in a stable order (keyset pagination).

    Called by whatever reads every patient (the massive portability export) through
    :meth:`segur_core.host.Host.iter_patients`, one page after the other, each
    ``cursor`` the ``next_cursor`` of the page before. Pages go by a stable key (the
    local identifier), never by offset: every patient present from the first page to
    the last is on exactly one page, whatever is added or removed meanwhile. Optional:
    without it segur lists every patient at once with ``host_find_patients``.

    :param cursor: ``None`` for the first page, else the ``next_cursor`` of the page
        before (opaque to segur; a cursor the host did not give raises
        :class:`~segur_core.host.paging.CursorError`).
    :param limit: the most patients to return (1 to
        :data:`~segur_core.host.paging.MAX_PAGE_SIZE`); fewer is allowed.
    :return: a :class:`~segur_core.host.paging.PatientPage`: the patients and the
        ``next_cursor`` (``None`` on the last page).

    .. versionadded:: 0.2
    """


@hostspec(firstresult=True)
def host_save_patient(patient: Patient) -> Patient:
    """Create or update a patient. An empty ``patient.id`` asks the host for a new one.

    :return: the patient as saved, with its identifier.

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_store_document(document: HealthDocument) -> HealthDocument:
    """Store a document (new, new status, or a new version). Same ``id`` replaces.

    :return: the document as stored.

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_get_document(document_id: str) -> HealthDocument | None:
    """One stored document by its unique id.

    :return: the document, or ``None`` when unknown.

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_list_documents(patient_id: str) -> Sequence[HealthDocument]:
    """The documents stored for a patient, oldest first.

    :return: the documents (possibly empty).

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_store_message(message: ReceivedMessage) -> ReceivedMessage:
    """Keep a message received with no structured document to integrate (a patient's
    photo of a prescription sent to the pharmacy's organisational mailbox) for the
    pharmacist, as received. The same ``id`` replaces (storing twice keeps one).

    :return: the message as stored.

    .. versionadded:: 0.2
    """


@hostspec(firstresult=True)
def host_get_message(message_id: str) -> ReceivedMessage | None:
    """One stored received message by its ``id`` (``ReceivedMessage.id``).

    Called before storing, so that a message fetched again (after a crash between
    storing it and flagging it on the server) is not kept twice.

    :return: the message, or ``None`` when unknown.

    .. versionadded:: 0.2
    """


@hostspec(firstresult=True)
def host_dispensations(patient_id: str, since: dt.datetime | None) -> Sequence[Dispensation]:
    """What was dispensed to a patient in this pharmacy, newest first.

    :param since: only dispensations at or after this instant (all when ``None``).
    :return: the dispensations (possibly empty).

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_record_dispensation(dispensation: Dispensation) -> Dispensation:
    """Record a dispensation (after an ordonnance numérique was served).

    :return: the dispensation as recorded.

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_consent(patient_id: str, purpose: str) -> Consent | None:
    """The latest consent record of a patient for a purpose (``dmp-access``...).

    :return: the latest record, or ``None`` when none was ever recorded.

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_consents(patient_id: str) -> list[Consent] | None:
    """Every consent record of a patient, all purposes, oldest first: the history behind
    :func:`host_consent` (records are never overwritten), which the portability export
    gives as the patient's consent history. Optional: without it (or when it returns
    ``None``) the export has the latest record per purpose and the changes recorded
    through segur (its journal).

    :return: the records in the order they were recorded (the last of a purpose is
        what :func:`host_consent` returns), possibly empty.

    .. versionadded:: 0.2
    """


@hostspec(firstresult=True)
def host_record_consent(consent: Consent) -> Consent:
    """Record a patient's consent or opposition (records are kept, never overwritten).

    :return: the record as stored.

    .. versionadded:: 0.1
    """


@hostspec(firstresult=True)
def host_decide(question: Question) -> Answer:
    """Ask the pharmacist to choose (several identities, a trait mismatch...).

    The host shows ``question.prompt`` and the options and returns the chosen one; a host
    with no one at the screen returns ``question.default``. The answer's key must be one
    of the option keys.

    :return: an :class:`~segur_core.model.Answer`.

    .. versionadded:: 0.1
    """
