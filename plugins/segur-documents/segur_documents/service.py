"""The life of a document at the pharmacy: draft → validated → replaced.

:class:`DocumentService` builds a draft from the host's structure and practitioner
and the patient's shareable INS, checks it, records the pharmacist's legal
authentication, stores each state through the host, fires ``on_document_validated``,
keeps the PDF rendering of a structured document (:mod:`segur_documents.renderings`)
and journals every step. A document that fails its checks is refused with the
reasons (:class:`~segur_core.errors.DocumentError` with ``issues``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs
from lxml import etree

from segur_core.errors import DocumentError
from segur_core.model import (
    INS,
    DocumentStatus,
    HealthDocument,
    Patient,
    Practitioner,
    utcnow,
)
from segur_core.safexml import parse_xml
from segur_documents import builders, codes
from segur_documents.cda import MAX_XML_BYTES, cda_time, to_bytes
from segur_documents.checks.validator import ValidationReport, validator_for
from segur_documents.checks.warm import Validators
from segur_documents.config import DocumentsConfig
from segur_documents.models import (
    BilanMedication,
    BuildResult,
    DocumentContext,
    Entretien,
    Vaccination,
)
from segur_documents.renderings import keep_rendering

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["DocumentService", "validator_for"]

_NS = {"c": "urn:hl7-org:v3"}


class DocumentService:
    """Drafts, checks, validates and replaces documents for one runtime."""

    def __init__(self, runtime: Runtime, config: DocumentsConfig | None = None) -> None:
        self.runtime = runtime
        if config is None:
            try:
                config = runtime.plugin_config("documents")
            except Exception:
                config = None
        self.config = config or DocumentsConfig()
        # the warm validator of `segur serve` when it made one, else the in-process one
        validators = runtime.service("documents.validators", Validators)
        self.validator = validators.for_config(self.config)
        #: the report of the latest :meth:`validate` (its ``skipped`` says which official
        #: checks did not run, so the caller can tell the pharmacist)
        self.last_report: ValidationReport | None = None

    # -- drafts ----------------------------------------------------------------------------

    def shareable_ins(self, patient: Patient) -> INS | None:
        """The patient's INS if it may be written (QUAL).

        The INS is written with the OID segur-ins gives it (the one INSi returned), so
        that the document and the DMP metadata name the same INS; ``runtime.ins_oid()``
        (the environment's NIR OID) only fills an INS that has no OID.
        """
        ins = self.runtime.shareable_ins(patient)
        if ins is None:
            return None
        if not ins.oid:
            oid = self.runtime.ins_oid()
            if not oid:
                raise DocumentError("the patient's INS has no OID and no INS OID is configured")
            ins = attrs.evolve(ins, oid=oid)
        return ins

    def context(
        self,
        patient: Patient,
        *,
        previous: HealthDocument | None = None,
        author: Practitioner | None = None,
        effective_time: dt.datetime | None = None,
    ) -> DocumentContext:
        """The header context of a new document (or of a new version of ``previous``)."""
        host = self.runtime.host
        return DocumentContext(
            structure=host.structure(),
            author=author or host.practitioner(),
            patient=patient,
            ins=self.shareable_ins(patient),
            local_id_root=self.config.local_patient_id_root,
            effective_time=effective_time or utcnow(),
            set_id=previous.set_id if previous else None,
            version=previous.version + 1 if previous else 1,
            replaces=previous.id if previous else None,
        )

    def draft(
        self,
        patient: Patient,
        content: Vaccination | Entretien | BilanMedication,
        *,
        previous: HealthDocument | None = None,
        author: Practitioner | None = None,
    ) -> BuildResult:
        """Build a draft for ``patient`` and store it through the host.

        With ``previous``, the draft is its next version (same set id, version + 1,
        ``relatedDocument`` RPLC).
        """
        if previous is not None and previous.patient_id != patient.id:
            raise DocumentError("a new version must be for the same patient")
        ctx = self.context(patient, previous=previous, author=author)
        if isinstance(content, Vaccination):
            result = builders.build_vaccination(content, ctx)
        elif isinstance(content, Entretien):
            result = builders.build_entretien(content, ctx)
        elif isinstance(content, BilanMedication):
            result = builders.build_bpm(content, ctx)
        else:
            raise DocumentError(f"no document for {type(content).__name__}")
        stored = self.runtime.host.store_document(result.document)
        self.runtime.journal.record(
            "documents.draft",
            patient_id=patient.id,
            actor=ctx.author.rpps,
            details={
                "document": stored.id,
                "type": stored.type_code,
                "version": stored.version,
                "ins_shared": ctx.ins is not None,
                "warnings": list(result.warnings),
            },
        )
        return attrs.evolve(result, document=stored)

    # -- checks and validation -------------------------------------------------------------

    def check(self, document: HealthDocument | bytes) -> ValidationReport:
        """Run every available check on a document (never raises for a bad one)."""
        data = document.content if isinstance(document, HealthDocument) else document
        return self.validator.validate(data)

    def validate(
        self,
        document: HealthDocument,
        patient: Patient | None = None,
        *,
        by: Practitioner | None = None,
        at: dt.datetime | None = None,
    ) -> HealthDocument:
        """The pharmacist validates (legally authenticates) a draft.

        The legal authenticator and its time are written, the document is checked, and
        refused with :class:`DocumentError` (``issues``) when a check fails. Otherwise
        it is stored as validated, the version it replaces is marked replaced, and
        ``on_document_validated`` fires.
        """
        if document.status is not DocumentStatus.DRAFT:
            raise DocumentError(f"only a draft can be validated (status {document.status})")
        patient = patient or self.runtime.host.get_patient(document.patient_id)
        if patient is None:
            raise DocumentError("the document's patient is unknown to the host")
        by = by or self.runtime.host.practitioner()
        content = _authenticate(document.content, by, at or utcnow())
        report = self.check(content)
        self.last_report = report
        journal = self.runtime.journal
        if not report.valid:
            journal.record(
                "documents.validate",
                outcome="refused",
                patient_id=patient.id,
                actor=by.rpps,
                details={
                    "document": document.id,
                    "errors": len(report.errors),
                    "rules": sorted({i.rule for i in report.errors})[:20],
                },
            )
            # the issues carry the details; the message stays free of document content
            sources = ", ".join(sorted({i.source.rsplit("/", 1)[-1] for i in report.errors}))
            raise DocumentError(
                f"document refused: {len(report.errors)} check(s) failed ({sources})",
                issues=report.errors,
                hint="correct the document and validate it again",
            )
        validated = attrs.evolve(
            document, content=content, status=DocumentStatus.VALIDATED, author_rpps=by.rpps
        )
        stored = self.runtime.host.store_document(validated)
        if document.replaces:
            previous = self.runtime.host.get_document(document.replaces)
            if previous is not None and previous.status is not DocumentStatus.REPLACED:
                self.runtime.host.store_document(
                    attrs.evolve(previous, status=DocumentStatus.REPLACED)
                )
                journal.record(
                    "documents.replaced",
                    patient_id=patient.id,
                    actor=by.rpps,
                    details={"document": previous.id, "by": stored.id},
                )
        journal.record(
            "documents.validate",
            patient_id=patient.id,
            actor=by.rpps,
            details={
                "document": stored.id,
                "type": stored.type_code,
                "version": stored.version,
                "checks": list(report.checks),
                "skipped": list(report.skipped),
            },
        )
        self.runtime.document_validated(stored, patient)
        keep_rendering(self.runtime, stored)  # after the deliveries are queued
        return stored


def _authenticate(content: bytes, by: Practitioner, at: dt.datetime) -> bytes:
    """Write the legal authenticator (who, when) into a CDA's header."""
    root = parse_xml(content, max_bytes=MAX_XML_BYTES)
    legal = root.find("c:legalAuthenticator", _NS)
    if legal is None:
        raise DocumentError("the draft has no legalAuthenticator")
    time = legal.find("c:time", _NS)
    if time is not None:
        time.set("value", cda_time(at))
    entity = legal.find("c:assignedEntity", _NS)
    if entity is not None:
        ident = entity.find("c:id", _NS)
        if ident is not None:
            ident.set("root", codes.PS_IDNAT)
            ident.set("extension", by.idnps)
        code = entity.find("c:code", _NS)
        if code is not None:
            specialty = builders.specialty_of(by)
            code.set("code", specialty.code)
            code.set("displayName", specialty.display)
        name = entity.find("c:assignedPerson/c:name", _NS)
        if name is not None:
            for tag, value in (("family", by.family_name), ("given", by.given_name)):
                node = name.find(f"c:{tag}", _NS)
                if node is not None:
                    node.text = value
    etree.cleanup_namespaces(root)
    return to_bytes(root)
