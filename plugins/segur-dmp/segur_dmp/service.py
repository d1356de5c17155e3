"""The DMP rules on top of the client, for one runtime.

- only a qualified INS goes to the DMP (``runtime.shareable_ins``);
- the access check (TD0.2) runs before any consultation; the authorisation (TD0.3) is
  recorded only after the host recorded the patient's consent (``dmp-access``);
- every access and every feed is journaled (patient in ``patient_id``, never in logs);
- a refused access says why and what to do (:class:`~segur_dmp.errors.AccessRefused`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

from segur_core.cdaheader import read_header
from segur_core.errors import PermanentDeliveryError, SegurError, TransientDeliveryError
from segur_core.model import INS, HealthDocument, Patient
from segur_core.xds.metadata import DocumentEntry, cx, entry_from_cda
from segur_dmp.client import DMPClient
from segur_dmp.errors import AccessRefused, RegistryError, SOAPFault
from segur_dmp.hl7v3 import AccessStatus
from segur_dmp.mtom import MAX_XML_BYTES
from segur_dmp.ns import UUID
from segur_dmp.status import DELETED, FAILED, IN_DMP, MASKED, QUEUED, StatusStore

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["CONSENT_PURPOSE", "FEED_KIND", "DMPService", "service_for"]

NAME = "dmp"
FEED_KIND = "dmp.iti41"
CONSENT_PURPOSE = "dmp-access"
SIGNATURE_CLASS = "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"

log = logging.getLogger("segur.dmp")


def service_for(runtime: Runtime) -> DMPService:
    """The DMP service of ``runtime``: one per runtime, closed with it (its HTTP client
    and its status database)."""
    return runtime.service(NAME, lambda: DMPService(runtime))


_REFUSALS = {
    "NON_EXISTE": "this pharmacy is not authorised on the patient's DMP",
    "EXPIRE": "this pharmacy's authorisation on the patient's DMP has expired",
    "INTERDIT": "the patient has blocked this pharmacy's access to their DMP",
}


class DMPService:
    """DMP operations with the rules applied. ``client`` is built from the ``[dmp]``
    config on first use (or given, for tests and benchmarks)."""

    def __init__(self, runtime: Runtime, client: DMPClient | None = None) -> None:
        self.runtime = runtime
        self._client = client
        self._lock = threading.Lock()
        self._status: StatusStore | None = None
        self._last_access: dict[str, AccessStatus] = {}

    @property
    def client(self) -> DMPClient:
        with self._lock:
            if self._client is None:
                from segur_dmp.connection import build_client

                self._client = build_client(self.runtime.plugin_config(NAME), self.runtime)
            return self._client

    @property
    def status(self) -> StatusStore:
        with self._lock:
            if self._status is None:
                self._status = StatusStore(self.runtime.data_dir / "dmp-status.sqlite")
            return self._status

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            if self._status is not None:
                self._status.close()
            self._client = self._status = None

    # -- identity and access ---------------------------------------------------------------

    def _journal(
        self, action: str, patient_id: str | None, outcome: str = "ok", **details: Any
    ) -> None:
        self.runtime.journal.record(
            action,
            outcome=outcome,
            service="dmp",
            patient_id=patient_id,
            actor=f"plugin:{NAME}",
            details=details or None,
        )

    @contextlib.contextmanager
    def _journal_failure(self, action: str, patient_id: str | None, **details: Any):
        """Journal an access that did not go through (refused or failed), then re-raise:
        every access attempt leaves a record, not only the successful ones."""
        try:
            yield
        except AccessRefused as exc:
            self._journal(action, patient_id, "refused", reason=exc.status, **details)
            raise
        except SegurError as exc:
            code = getattr(exc, "code", None)
            extra = {"code": code} if code else {}
            self._journal(action, patient_id, "error", error=type(exc).__name__, **extra, **details)
            raise

    def ins_of(self, patient: Patient | str) -> INS:
        """The patient's qualified INS, or :class:`AccessRefused` (``NO_INS``)."""
        if isinstance(patient, str):
            found = self.runtime.host.get_patient(patient)
            if found is None:
                raise AccessRefused("unknown patient", status="NO_PATIENT")
            patient = found
        ins = self.runtime.shareable_ins(patient)
        if ins is None:
            raise AccessRefused(
                "the patient's identity is not qualified: the DMP needs a qualified INS",
                status="NO_INS",
                hint="qualify the identity (INSi call and an identity document check) first",
            )
        return ins

    def check_access(self, patient_id: str) -> AccessStatus:
        """TD0.2 for the patient (journaled)."""
        with self._journal_failure("dmp.access-check", patient_id):
            ins = self.ins_of(patient_id)
        try:
            status = self.client.test_access(ins)
        except SegurError as exc:
            self._journal("dmp.access-check", patient_id, "error", error=type(exc).__name__)
            raise
        self._last_access[patient_id] = status
        self._journal(
            "dmp.access-check",
            patient_id,
            exists=status.exists,
            closed=status.closed,
            authorization=status.authorization,
        )
        return status

    def last_access(self, patient_id: str) -> AccessStatus | None:
        """The answer of the latest access check for the patient in this runtime."""
        return self._last_access.get(patient_id)

    def authorize(self, patient_id: str) -> AccessStatus:
        """TD0.3, once the host recorded the patient's consent; returns the new status."""
        consent = self.runtime.host.consent(patient_id, CONSENT_PURPOSE)
        if consent is None or not consent.granted:
            self._journal("dmp.authorize", patient_id, "refused", reason="no consent")
            raise AccessRefused(
                "the patient's consent to access their DMP is not recorded",
                status="NO_CONSENT",
                hint="inform the patient, record their consent (dmp-access), then retry",
            )
        ins = self.ins_of(patient_id)
        try:
            self.client.set_authorization(ins)
        except SOAPFault as exc:
            self._journal("dmp.authorize", patient_id, "refused", code=exc.code)
            raise AccessRefused(
                "the DMP refused to record this pharmacy's authorisation",
                status="INTERDIT",
                hint="the patient may have blocked this pharmacy; ask them in Mon Espace Santé",
            ) from None
        self._journal("dmp.authorize", patient_id)
        return self.check_access(patient_id)

    def ensure_access(self, patient_id: str) -> INS:
        """TD0.2, then TD0.3 when needed and consented; raises :class:`AccessRefused`
        with the reason otherwise. Returns the INS to use."""
        status = self.check_access(patient_id)
        if status.allowed:
            return self.ins_of(patient_id)
        if not status.exists:
            raise AccessRefused(
                "the patient has no DMP",
                status="NO_DMP",
                hint="the patient can activate Mon Espace Santé",
            )
        if status.closed:
            raise AccessRefused("the patient's DMP is closed", status="CLOSED")
        if status.authorization == "INTERDIT":
            raise AccessRefused(
                _REFUSALS["INTERDIT"],
                status="INTERDIT",
                hint=status.reason or "only the patient can lift the block",
            )
        status = self.authorize(patient_id)
        if not status.allowed:
            raise AccessRefused(
                _REFUSALS.get(status.authorization, "access refused"), status=status.authorization
            )
        return self.ins_of(patient_id)

    # -- consultation ----------------------------------------------------------------------

    def list(self, patient_id: str) -> list[DocumentEntry]:
        """ITI-18 FindDocuments after the access check (signature documents left out)."""
        with self._journal_failure("dmp.list", patient_id):
            ins = self.ensure_access(patient_id)
            entries = self.client.find_documents(ins)
        self._journal("dmp.list", patient_id, count=len(entries))
        return [e for e in entries if e.class_code.code != SIGNATURE_CLASS]

    def get(self, patient_id: str, unique_id: str) -> bytes:
        """ITI-43 retrieve after the access check."""
        with self._journal_failure("dmp.retrieve", patient_id, document=unique_id):
            ins = self.ensure_access(patient_id)
            content = self.client.retrieve(ins, unique_id)
        self._journal("dmp.retrieve", patient_id, document=unique_id, size=len(content))
        return content

    def _own_entry(self, patient_id: str, unique_id: str) -> tuple[INS, DocumentEntry]:
        mine = self.status.get(unique_id)
        if mine is None or mine.patient_id != patient_id:
            raise AccessRefused(
                "only documents this pharmacy fed can be masked or deleted",
                status="NOT_OWNER",
                hint="ask the document's author",
            )
        ins = self.ensure_access(patient_id)
        found = self.client.get_documents(ins, [unique_id])
        if not found:
            raise AccessRefused("the document is not in the patient's DMP", status="NOT_FOUND")
        return ins, found[0]

    def set_masked(self, patient_id: str, unique_id: str, masked: bool) -> None:
        """ITI-57: mask or unmask one of this pharmacy's documents to other professionals."""
        action = "dmp.mask" if masked else "dmp.unmask"
        with self._journal_failure(action, patient_id, document=unique_id):
            ins, entry = self._own_entry(patient_id, unique_id)
            self.client.set_masked(ins, entry, masked)
        self.status.set(unique_id, patient_id, MASKED if masked else IN_DMP)
        self._journal(action, patient_id, document=unique_id)

    def delete(self, patient_id: str, unique_id: str) -> None:
        """ITI-57: delete one of this pharmacy's documents from the DMP."""
        with self._journal_failure("dmp.delete", patient_id, document=unique_id):
            ins, entry = self._own_entry(patient_id, unique_id)
            self.client.delete(ins, entry)
        self.status.set(unique_id, patient_id, DELETED)
        self._journal("dmp.delete", patient_id, document=unique_id)

    # -- feed ------------------------------------------------------------------------------

    def enqueue(self, document: HealthDocument, patient: Patient | None = None) -> Any:
        """Queue a validated document for the DMP (idempotent on its unique id); without
        ``patient``, the host's patient of the document. :class:`AccessRefused`
        (``NO_PATIENT``, ``NO_INS``) and nothing queued when there is no patient to feed."""
        if patient is None:
            patient = self.runtime.host.get_patient(document.patient_id)
            if patient is None:
                raise AccessRefused(
                    "the document's patient is unknown to the host", status="NO_PATIENT"
                )
        ins = self.ins_of(patient)
        payload = json.dumps({
            "document_id": document.id, "patient_id": patient.id,
            "ins": {"matricule": ins.matricule, "oid": ins.oid},
            "cda": base64.b64encode(document.content).decode("ascii"),
        }).encode()  # fmt: skip
        delivery = self.runtime.outbox.enqueue(
            FEED_KIND, document.id, payload, patient_id=patient.id
        )
        state = str(delivery.state)
        if state in ("delivered", "dead"):  # validated again: the outbox kept the first
            # say what happened, not "queued": nothing is sent again by validating again
            self._journal(
                "dmp.feed-not-queued", patient.id, "ok" if state == "delivered" else state,
                document=document.id, delivery=delivery.id, state=state,
                **({"hint": f"segur outbox retry {delivery.id}"} if state == "dead" else {}),
            )  # fmt: skip
            if state == "dead":
                log.warning(
                    "DMP feed %s is dead and was not queued again: segur outbox retry %s",
                    delivery.id, delivery.id,
                )  # fmt: skip
            return delivery
        current = self.status.get(document.id)
        if current is None or current.state == QUEUED:
            self.status.set(document.id, patient.id, QUEUED, delivery_id=delivery.id)
        self._journal("dmp.feed-queued", patient.id, document=document.id, delivery=delivery.id)
        return delivery

    def feed_skipped(self, document: HealthDocument, patient_id: str, exc: AccessRefused) -> None:
        """Journal a document that :meth:`enqueue` refused: it stays local."""
        self._journal(
            "dmp.feed-skipped", patient_id, "refused", document=document.id, reason=exc.status
        )

    def requeue(self, document_id: str) -> Any:
        """Send a document whose feed is dead again (what ``segur outbox retry`` does,
        for a host's "resend" button): a new series of attempts and horizon."""
        delivery = self.runtime.outbox.find(document_id)
        if delivery is None or delivery.kind != FEED_KIND:
            raise AccessRefused("this document was never queued for the DMP", status="NOT_QUEUED")
        delivery = self.runtime.outbox.retry(delivery.id)
        current = self.status.get(document_id)
        if current is not None:
            self.status.set(document_id, current.patient_id, QUEUED, delivery_id=delivery.id)
        self._journal(
            "dmp.feed-queued", delivery.patient_id, document=document_id, delivery=delivery.id,
            requeued=True,
        )  # fmt: skip
        return delivery

    def send(self, item: Any) -> str:
        """The outbox sender of ``dmp.iti41``: one ITI-41 per item; a document already in
        the DMP (a retry after a lost answer) counts as delivered."""
        try:
            data = json.loads(item.payload)
            ins = INS(data["ins"]["matricule"], data["ins"]["oid"])
            cda = base64.b64decode(data["cda"], validate=True)
            patient_id = data["patient_id"]
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentDeliveryError(
                f"malformed DMP feed item ({exc})", service="dmp", code="payload"
            ) from None
        # the identity may have changed since the document was queued: only an INS that is
        # still the patient's qualified INS goes out
        patient = self.runtime.host.get_patient(patient_id)
        current = self.runtime.shareable_ins(patient) if patient is not None else None
        if current != ins:
            self._journal("dmp.feed", patient_id, "refused", reason="INS no longer qualified")
            raise PermanentDeliveryError(
                "the patient's identity is no longer qualified with this INS",
                service="dmp",
                code="NO_INS",
                hint="check the identity, then validate a new version of the document",
            )
        try:
            entry = entry_from_cda(cda, patient_id=cx(ins.matricule, ins.oid))
        except SegurError as exc:
            self._journal("dmp.feed", patient_id, "refused", error=exc.message)
            raise PermanentDeliveryError(
                exc.message, service="dmp", code="metadata", hint=exc.hint
            ) from None
        replaces = self._replaced_entry(ins, cda, patient_id)
        try:
            ss = self.client.provide_and_register(ins, cda, entry, replaces=replaces)
        except RegistryError as exc:
            if exc.code == "XDSDuplicateUniqueIdInRegistry":
                self._journal("dmp.feed", patient_id, document=entry.unique_id, duplicate=True)
                return "already in the DMP"
            self._journal("dmp.feed", patient_id, "refused", code=exc.code)
            raise
        except (TransientDeliveryError, SOAPFault) as exc:
            self._journal(
                "dmp.feed", patient_id, "retry" if exc.transient else "refused", code=exc.code
            )
            raise
        self._journal("dmp.feed", patient_id, document=entry.unique_id, submission=ss.unique_id)
        return f"submission {ss.unique_id}"

    def _replaced_entry(self, ins: INS, cda: bytes, patient_id: str) -> str | None:
        """The entryUUID of the DMP version a new version of a document replaces (its
        ``relatedDocument`` RPLC), found with ITI-18 GetDocuments; ``None`` when the
        document replaces nothing or the previous version is not (or no longer) in the
        DMP."""
        parent = read_header(cda, max_bytes=MAX_XML_BYTES).replaces
        if not parent:
            return None
        try:
            found = self.client.get_documents(ins, [parent])
        except SegurError as exc:
            self._journal(
                "dmp.feed", patient_id, "retry" if getattr(exc, "transient", False) else "refused",
                replaces=parent, code=getattr(exc, "code", None),
            )  # fmt: skip
            raise
        current = [e for e in found if e.status == UUID.APPROVED and e.unique_id == parent]
        return current[0].entry_uuid if current else None

    def settled(self, delivery: Any) -> None:
        """Record the outcome of a feed in the status table."""
        from segur_core.model import DeliveryState

        if delivery.kind != FEED_KIND:
            return
        current = self.status.get(delivery.key)
        if current is None:
            return
        if delivery.state == DeliveryState.DELIVERED:
            self.status.set(current.document_id, current.patient_id, IN_DMP, detail=delivery.result)
        else:
            self.status.set(
                current.document_id, current.patient_id, FAILED, detail=delivery.last_error
            )
