"""French XDS metadata: the DocumentEntry and SubmissionSet of a document, derived from
the CDA R2 header per the ANS "CDA header → XDS" mapping (reference ``xds-dmp.md`` §5).

A DMP feed (segur-dmp), an XDM archive (MSSanté, portability) carry the same metadata.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import uuid

import attrs

from segur_core import cdaheader
from segur_core.errors import DocumentError, ValidationIssue
from segur_core.model import _tuple, hidden
from segur_core.xds import hl7v2
from segur_core.xds.ns import OID

__all__ = [
    "CLASS_BY_TYPE",
    "ENTRY_RULES",
    "FORMAT_BY_TEMPLATE",
    "Author",
    "Code",
    "DocumentEntry",
    "SubmissionSet",
    "cx",
    "entry_from_cda",
    "new_oid",
    "new_urn",
    "parse_cx",
    "xds_time",
]

#: typeCode (LOINC) → classCode (TRE_A03). [UNCERTAIN] per the reference: the official
#: correspondence is ASS_X04 (CI-SIS) / ASS_X16 (DMP), not in the kit; verify before
#: production. Unknown types fall back to ``10`` (Compte rendu).
CLASS_BY_TYPE = {
    "87273-9": ("45", "Traitement administré"),
    "11369-6": ("11", "Synthèse"),
    "78601-2": ("10", "Compte rendu"),
    "56445-0": ("10", "Compte rendu"),
    "11502-2": ("10", "Compte rendu"),
}

#: templateId → (formatCode, codingScheme) (ASS_A11); N1 documents use XDS-SD.
FORMAT_BY_TEMPLATE = {
    "1.2.250.1.213.1.1.1.46": ("urn:asip:ci-sis:vac-note:2021", "1.2.250.1.213.1.1.4.2.282"),
    "1.3.6.1.4.1.19376.1.2.20": ("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3"),
}

#: The version of the rules :func:`entry_from_cda` derives a DocumentEntry by. An entry
#: kept under another number (segur-portability keeps each document's entry when it comes
#: into being) is derived again: raise it with any change to what the function returns.
#: ``tests/core/test_xds_entry_rules.py`` fails until it is raised.
ENTRY_RULES = 1

_TS = re.compile(r"^(\d{4,14})(?:\.\d+)?([+-]\d{4})?$")
_CX = re.compile(r"^([^\^&]+)\^\^\^&([0-9.]+)&ISO\^(NH|PI)$")


def new_oid() -> str:
    """A fresh globally unique OID (``2.25`` + UUID)."""
    return f"2.25.{uuid.uuid4().int}"


def new_urn() -> str:
    """A fresh ``urn:uuid:`` (random, version 4): ``f"urn:uuid:{uuid.uuid4()}"`` built
    from the same 16 random bytes, a third of the time (a document's metadata takes
    about fifteen)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def cx(matricule: str, oid: str, kind: str = "NH") -> str:
    """A patient identifier in HL7 v2 CX form: ``<id>^^^&<OID>&ISO^NH``."""
    return f"{matricule}^^^&{oid}&ISO^{kind}"


def parse_cx(value: str) -> tuple[str, str]:
    """``(id, oid)`` from a CX value; raises ``InputError`` when malformed."""
    match = _CX.match(value.strip())
    if not match:
        raise DocumentError("patient identifier is not an HL7 v2 CX value")
    return match.group(1), match.group(2)


def xds_time(value: str | dt.datetime) -> str:
    """An XDS DTM (``YYYYMMDDhhmmss`` in UTC) from a CDA TS or a datetime."""
    if isinstance(value, dt.datetime):
        return _dtm(value.astimezone(dt.UTC))
    match = _TS.match(value.strip())
    if not match:
        raise DocumentError(f"time {value[:30]!r} is not an HL7 TS")
    digits, offset = match.groups()
    if offset and len(digits) >= 12:
        padded = digits.ljust(14, "0")
        try:
            moment = _local_time(padded).replace(tzinfo=_offset(offset))
        except ValueError:
            raise DocumentError(f"time {value[:30]!r} is not a valid date") from None
        return _dtm(moment.astimezone(dt.UTC))[: len(digits)]
    return digits


def _dtm(moment: dt.datetime) -> str:
    """``moment`` as ``YYYYMMDDhhmmss``: what ``strftime`` gives, several times faster
    (``strftime`` itself before the year 1000, padded or not depending on the C library)."""
    if moment.year < 1000:
        return moment.strftime("%Y%m%d%H%M%S")
    return (
        f"{moment.year}{moment.month:02d}{moment.day:02d}"
        f"{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"
    )


def _local_time(digits: str) -> dt.datetime:
    """``YYYYMMDDhhmmss`` read field by field (``strptime`` costs ten times more); what
    that refuses is left to ``strptime``, whose reading of odd digits it keeps."""
    try:
        return dt.datetime(
            int(digits[:4]), int(digits[4:6]), int(digits[6:8]),
            int(digits[8:10]), int(digits[10:12]), int(digits[12:14]),
        )  # fmt: skip
    except ValueError:
        return dt.datetime.strptime(digits, "%Y%m%d%H%M%S")


@functools.lru_cache(maxsize=64)
def _offset(offset: str) -> dt.tzinfo | None:
    """The time zone of a TS offset (``+0200``), each read once."""
    return dt.datetime.strptime(offset, "%z").tzinfo


@attrs.frozen
class Code:
    """A coded value: code, coding scheme (OID or URN) and display name."""

    code: str
    scheme: str
    display: str = ""


@attrs.frozen
class Author:
    """An XDS author: XCN person, XON institutions, roles and specialties (``code^display^oid``)."""

    person: str | None = attrs.field(default=None, repr=hidden)
    institutions: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    roles: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    specialties: tuple[str, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen
class DocumentEntry:
    """The metadata of one document in the DMP (XDS DocumentEntry)."""

    unique_id: str
    patient_id: str = attrs.field(repr=hidden)
    class_code: Code
    type_code: Code
    format_code: Code
    confidentiality: tuple[Code, ...] = attrs.field(converter=_tuple)
    healthcare_facility: Code
    practice_setting: Code
    creation_time: str
    title: str
    hash: str = ""
    size: int = 0
    language: str = "fr-FR"
    mime_type: str = "text/xml"
    authors: tuple[Author, ...] = attrs.field(default=(), converter=_tuple)
    legal_authenticator: str | None = attrs.field(default=None, repr=hidden)
    service_start: str | None = None
    service_stop: str | None = None
    source_patient_id: str | None = attrs.field(default=None, repr=hidden)
    source_patient_info: tuple[str, ...] = attrs.field(default=(), converter=_tuple, repr=hidden)
    entry_uuid: str = attrs.Factory(new_urn)
    status: str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    repository_id: str | None = None
    version: str = "1"
    lid: str | None = None
    event_codes: tuple[Code, ...] = attrs.field(default=(), converter=_tuple)

    @property
    def masked(self) -> bool:
        """Whether the document is masked to health professionals (``MASQUE_PS``)."""
        return any(c.code == "MASQUE_PS" for c in self.confidentiality)


@attrs.frozen
class SubmissionSet:
    """The metadata of one submission (XDS SubmissionSet)."""

    unique_id: str
    source_id: str
    patient_id: str = attrs.field(repr=hidden)
    submission_time: str
    content_type: Code
    authors: tuple[Author, ...] = attrs.field(default=(), converter=_tuple)
    title: str | None = None
    entry_uuid: str = attrs.Factory(new_urn)


# -- CDA header → XDS ----------------------------------------------------------------------


def _xcn(who: cdaheader.Participant | None) -> str | None:
    ident = who.extension(OID.PS_IDNAT) if who is not None else None
    if who is None or ident is None:
        return None
    return hl7v2.xcn(ident, who.family_name or "", who.given_name or "", OID.PS_IDNAT)


def _xon(org: cdaheader.Organization | None) -> str | None:
    ident = org.extension(OID.STRUCT_IDNAT) if org is not None else None
    if org is None or ident is None:
        return None
    return hl7v2.xon(org.name or "", ident, OID.STRUCT_IDNAT)


def _code(value: cdaheader.Coded | None) -> Code | None:
    if value is None:
        return None
    return Code(value.code, value.system or "", value.display or "")


def _format_code(header: cdaheader.CdaHeader) -> Code:
    if header.media_type == "application/pdf" or "1.3.6.1.4.1.19376.1.2.20" in header.templates:
        code, scheme = FORMAT_BY_TEMPLATE["1.3.6.1.4.1.19376.1.2.20"]
        return Code(code, scheme, "Document à corps non structuré en PDF")
    for template in header.templates:
        if template in FORMAT_BY_TEMPLATE:
            code, scheme = FORMAT_BY_TEMPLATE[template]
            return Code(code, scheme, "Note de vaccination")
    return Code(
        "urn:asipSante:modelesHorsProfils:2011",
        "1.2.250.1.213.1.1.4.2.282",
        "Document non référencé IHE ou CI-SIS",
    )


def _practice_setting(header: cdaheader.CdaHeader) -> Code | None:
    """The first performer's organisation's sector, else the legal authenticator's."""
    for event in header.service_events:
        for performer in event.performers:
            if performer.organization is not None and performer.organization.industry:
                return _code(performer.organization.industry)
    legal = header.legal_authenticator
    return _code(legal.organization.industry) if legal and legal.organization else None


def _source_patient_info(patient: cdaheader.RecordTarget | None) -> tuple[str, ...]:
    """PID-5 (birth name, first first name), PID-7 (birth date) and PID-8 (sex)."""
    if patient is None or not patient.has_patient:
        return ()
    info = [hl7v2.pid5(patient.birth_name or "", patient.first_name or "")]
    if patient.birth_time:
        info.append(f"PID-7|{patient.birth_time[:8]}")
    if patient.sex:
        info.append(f"PID-8|{patient.sex}")
    return tuple(info)


def entry_from_cda(
    cda: bytes,
    *,
    patient_id: str,
    extra_confidentiality: tuple[Code, ...] = (),
    header: cdaheader.CdaHeader | None = None,
) -> DocumentEntry:
    """Derive the DocumentEntry of a CDA R2 document from its header.

    ``patient_id`` is the INS as CX (``...^NH``); it must match the document's INS
    (``recordTarget/patientRole/id`` with an INS root). ``header``, when the caller has
    already parsed ``cda`` (:func:`segur_core.cdaheader.header_of`), spares a second
    parse. Raises ``DocumentError`` listing every missing header element.
    """
    if header is None:
        header = cdaheader.read_header(cda, max_bytes=cdaheader.MAX_CDA_BYTES)
    issues: list[ValidationIssue] = []

    def need(value: object, where: str) -> None:
        if not value:
            issues.append(ValidationIssue(f"missing {where}", location=where, source="xds"))

    unique_id = header.id.value if header.id is not None else None
    need(unique_id, "ClinicalDocument/id")
    type_code = _code(header.code)
    need(type_code, "ClinicalDocument/code")
    confidentiality = _code(header.confidentiality)
    need(confidentiality, "ClinicalDocument/confidentialityCode")
    created = header.effective_time
    need(created, "ClinicalDocument/effectiveTime")
    facility = _code(header.healthcare_facility)
    need(facility, "componentOf/.../healthCareFacility/code")
    practice = _practice_setting(header)
    need(practice, "documentationOf/serviceEvent/performer/.../standardIndustryClassCode")
    ins = header.patient.ins if header.patient is not None else None
    need(ins, "recordTarget/patientRole/id (INS)")
    if ins is not None and patient_id and cx(ins.matricule, ins.oid) != patient_id:
        issues.append(
            ValidationIssue(
                "the document's INS is not the patient's qualified INS",
                location="recordTarget/patientRole/id",
                source="xds",
            )
        )
    if issues:
        raise DocumentError(
            "the document header lacks what the DMP needs",
            issues=tuple(issues),
            hint="fix the document (segur-documents checks) and validate it again",
        )
    assert type_code and confidentiality and created and facility and practice and unique_id
    assert ins is not None

    authors = []
    for author in header.authors:
        spec = _code(author.code)
        role = author.function.display if author.function is not None else None
        institution = _xon(author.organization)
        authors.append(
            Author(
                person=_xcn(author),
                institutions=(institution,) if institution else (),
                roles=(hl7v2.text_value(role, slot="authorRole"),) if role else (),
                specialties=(hl7v2.coded(spec.code, spec.display, spec.scheme),) if spec else (),
            )
        )
    klass, klass_name = CLASS_BY_TYPE.get(type_code.code, ("10", "Compte rendu"))
    low = next((e.low for e in header.service_events if e.low), None)
    high = next((e.high for e in header.service_events if e.high), None)
    return DocumentEntry(
        unique_id=unique_id,
        patient_id=patient_id or cx(ins.matricule, ins.oid),
        class_code=Code(klass, OID.CLASS_CODE, klass_name),
        type_code=type_code,
        format_code=_format_code(header),
        confidentiality=(confidentiality, *extra_confidentiality),
        healthcare_facility=facility,
        practice_setting=practice,
        creation_time=xds_time(created),
        title=hl7v2.fit_text(header.title or ""),
        hash=hashlib.sha1(cda).hexdigest(),
        size=len(cda),
        language=header.language or "fr-FR",
        mime_type="text/xml",
        authors=tuple(authors),
        legal_authenticator=_xcn(header.legal_authenticator),
        service_start=_xds_time_or_none(low),
        service_stop=_xds_time_or_none(high),
        source_patient_id=patient_id,
        source_patient_info=_source_patient_info(header.patient),
        version=header.version_number or "1",
    )


def _xds_time_or_none(value: str | None) -> str | None:
    return xds_time(value) if value else None
