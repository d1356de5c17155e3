"""The LGO's host API: one route per hook of the host contract.

The adapter (:mod:`hostspecs.http.client`), the reference LGO side
(:mod:`hostspecs.http.server`) and the OpenAPI document (:mod:`segur_core.host.openapi`)
all read this table, so that the three cannot drift apart. Paths are relative to the
configured base URL; ``{name}`` segments are percent-encoded identifiers. A patient
search is a ``POST`` with a JSON body rather than a ``GET`` with a query string, so that
names and INS never land in an access log.
"""

from __future__ import annotations

import attrs

from segur_core.model import hidden

__all__ = [
    "API_VERSION",
    "BAD_CURSOR",
    "NOT_FOUND",
    "ROUTES",
    "PatientQuery",
    "Route",
    "route",
]

#: The version of the host API these routes describe (the base URL's ``/v1``).
API_VERSION = "1"

#: The problem ``type`` of the contract's "no such record" (a 404 without it is an error:
#: a wrong base URL must never read as "no patient").
NOT_FOUND = "urn:segur:host:not-found"

#: The problem ``type`` of a 400 for a page cursor the LGO did not give.
BAD_CURSOR = "urn:segur:host:bad-cursor"


@attrs.frozen
class PatientQuery:
    """The body of a patient search: every given (non-null) criterion must match."""

    birth_name: str | None = attrs.field(default=None, repr=hidden)
    first_name: str | None = attrs.field(default=None, repr=hidden)
    birth_date: str | None = attrs.field(default=None, repr=hidden)
    ins_matricule: str | None = attrs.field(default=None, repr=hidden)


@attrs.frozen
class Route:
    """One hook over HTTP: method, path template, what is sent and what comes back.

    ``request`` and ``answer`` name model classes (``"Patient"``), ``"[Patient]"`` a
    list wrapped in ``{answer_key: [...]}``; ``found`` is the success status;
    ``may_be_absent`` says a 404 "not found" means ``None``."""

    hook: str
    method: str
    path: str
    summary: str
    answer: str
    request: str | None = None
    found: int = 200
    may_be_absent: bool = False
    answer_key: str | None = None
    query: tuple[str, ...] = ()

    @property
    def operation(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def operation_id(self) -> str:
        return self.hook


ROUTES: tuple[Route, ...] = (
    Route("host_structure", "GET", "/structure", "The pharmacy", "Structure"),
    Route("host_practitioner", "GET", "/practitioner", "The pharmacist logged in", "Practitioner"),
    Route(
        "host_get_patient",
        "GET",
        "/patients/{patient_id}",
        "One patient by local identifier",
        "Patient",
        may_be_absent=True,
    ),
    Route(
        "host_find_patients",
        "POST",
        "/patients/search",
        "Patients matching every given criterion, ordered by identifier",
        "[Patient]",
        request="PatientQuery",
        answer_key="patients",
    ),
    Route(
        "host_patients_page",
        "GET",
        "/patients",
        "Every patient, one page after the cursor, in a stable order (keyset)",
        "PatientPage",
        query=("cursor", "limit"),
    ),
    Route(
        "host_save_patient",
        "POST",
        "/patients",
        "Create a patient (the LGO assigns its identifier)",
        "Patient",
        request="Patient",
        found=201,
    ),
    Route(
        "host_save_patient",
        "PUT",
        "/patients/{patient_id}",
        "Update (or create with this identifier) a patient",
        "Patient",
        request="Patient",
    ),
    Route(
        "host_store_document",
        "PUT",
        "/documents/{document_id}",
        "Store a document; the same identifier replaces it",
        "HealthDocument",
        request="HealthDocument",
    ),
    Route(
        "host_get_document",
        "GET",
        "/documents/{document_id}",
        "One stored document",
        "HealthDocument",
        may_be_absent=True,
    ),
    Route(
        "host_store_message",
        "PUT",
        "/messages/{message_id}",
        "Keep a received message; the same identifier replaces it",
        "ReceivedMessage",
        request="ReceivedMessage",
    ),
    Route(
        "host_get_message",
        "GET",
        "/messages/{message_id}",
        "One kept received message",
        "ReceivedMessage",
        may_be_absent=True,
    ),
    Route(
        "host_list_documents",
        "GET",
        "/patients/{patient_id}/documents",
        "A patient's documents, oldest first",
        "[HealthDocument]",
        answer_key="documents",
    ),
    Route(
        "host_dispensations",
        "GET",
        "/patients/{patient_id}/dispensations",
        "What was dispensed to a patient here, newest first",
        "[Dispensation]",
        answer_key="dispensations",
        query=("since",),
    ),
    Route(
        "host_record_dispensation",
        "POST",
        "/dispensations",
        "Record a dispensation",
        "Dispensation",
        request="Dispensation",
        found=201,
    ),
    Route(
        "host_consent",
        "GET",
        "/patients/{patient_id}/consents/{purpose}",
        "The latest consent record of a patient for a purpose",
        "Consent",
        may_be_absent=True,
    ),
    Route(
        "host_consents",
        "GET",
        "/patients/{patient_id}/consents",
        "Every consent record of a patient, oldest first (optional)",
        "[Consent]",
        answer_key="consents",
    ),
    Route(
        "host_record_consent",
        "POST",
        "/consents",
        "Record a consent or an opposition (never overwritten)",
        "Consent",
        request="Consent",
        found=201,
    ),
    Route(
        "host_decide",
        "POST",
        "/decisions",
        "Ask the pharmacist to choose one of the options",
        "Answer",
        request="Question",
    ),
)

_BY_KEY = {(r.method, r.path): r for r in ROUTES}


def route(method: str, path: str) -> Route:
    """The route ``method path`` of :data:`ROUTES`."""
    return _BY_KEY[(method, path)]
