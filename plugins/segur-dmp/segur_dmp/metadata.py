"""French XDS metadata: the DocumentEntry and SubmissionSet of a DMP feed, derived from
the CDA R2 header per the ANS "CDA header → XDS" mapping (reference ``xds-dmp.md`` §5).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import attrs
from lxml import etree

from segur_core.errors import DocumentError, ValidationIssue
from segur_core.safexml import parse_xml
from segur_dmp.mtom import MAX_XML_BYTES
from segur_dmp.ns import OID

__all__ = [
    "CLASS_BY_TYPE",
    "Author",
    "Code",
    "DocumentEntry",
    "SubmissionSet",
    "cx",
    "entry_from_cda",
    "parse_cx",
    "xds_time",
]

H = "urn:hl7-org:v3"
_N = {"h": H}

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

_CX = re.compile(r"^([^\^&]+)\^\^\^&([0-9.]+)&ISO\^(NH|PI)$")


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
        return value.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    match = re.match(r"^(\d{4,14})(?:\.\d+)?([+-]\d{4})?$", value.strip())
    if not match:
        raise DocumentError(f"time {value[:30]!r} is not an HL7 TS")
    digits, offset = match.groups()
    if offset and len(digits) >= 12:
        padded = digits.ljust(14, "0")
        try:
            moment = dt.datetime.strptime(padded, "%Y%m%d%H%M%S").replace(
                tzinfo=dt.datetime.strptime(offset, "%z").tzinfo
            )
        except ValueError:
            raise DocumentError(f"time {value[:30]!r} is not a valid date") from None
        return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")[: len(digits)]
    return digits


@attrs.frozen
class Code:
    """A coded value: code, coding scheme (OID or URN) and display name."""

    code: str
    scheme: str
    display: str = ""


@attrs.frozen
class Author:
    """An XDS author: XCN person, XON institutions, roles and specialties (``code^display^oid``)."""

    person: str | None = None
    institutions: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    roles: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    specialties: tuple[str, ...] = attrs.field(default=(), converter=tuple)


@attrs.frozen
class DocumentEntry:
    """The metadata of one document in the DMP (XDS DocumentEntry)."""

    unique_id: str
    patient_id: str
    class_code: Code
    type_code: Code
    format_code: Code
    confidentiality: tuple[Code, ...] = attrs.field(converter=tuple)
    healthcare_facility: Code
    practice_setting: Code
    creation_time: str
    title: str
    hash: str = ""
    size: int = 0
    language: str = "fr-FR"
    mime_type: str = "text/xml"
    authors: tuple[Author, ...] = attrs.field(default=(), converter=tuple)
    legal_authenticator: str | None = None
    service_start: str | None = None
    service_stop: str | None = None
    source_patient_id: str | None = None
    source_patient_info: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    entry_uuid: str = attrs.Factory(lambda: f"urn:uuid:{__import__('uuid').uuid4()}")
    status: str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    repository_id: str | None = None
    version: str = "1"
    lid: str | None = None
    event_codes: tuple[Code, ...] = attrs.field(default=(), converter=tuple)

    @property
    def masked(self) -> bool:
        """Whether the document is masked to health professionals (``MASQUE_PS``)."""
        return any(c.code == "MASQUE_PS" for c in self.confidentiality)


@attrs.frozen
class SubmissionSet:
    """The metadata of one submission (XDS SubmissionSet)."""

    unique_id: str
    source_id: str
    patient_id: str
    submission_time: str
    content_type: Code
    authors: tuple[Author, ...] = attrs.field(default=(), converter=tuple)
    title: str | None = None
    entry_uuid: str = attrs.Factory(lambda: f"urn:uuid:{__import__('uuid').uuid4()}")


# -- CDA header → XDS ----------------------------------------------------------------------


def _one(root: etree._Element, path: str) -> etree._Element | None:
    found = root.xpath(path, namespaces=_N)
    return found[0] if found else None


def _attr(root: etree._Element, path: str, name: str) -> str | None:
    el = _one(root, path)
    value = el.get(name) if el is not None else None
    return value.strip() if value else None


def _text(el: etree._Element | None, path: str) -> str:
    if el is None:
        return ""
    found = el.xpath(path, namespaces=_N)
    return found[0].text.strip() if found and found[0].text else ""


def _xcn(entity: etree._Element | None, person_path: str) -> str | None:
    if entity is None:
        return None
    ident = _one(entity, "h:id[@root='1.2.250.1.71.4.2.1']")
    if ident is None or not ident.get("extension"):
        return None
    person = _one(entity, person_path)
    family = _text(person, "h:name/h:family")
    given = _text(person, "h:name/h:given")
    return f"{ident.get('extension')}^{family}^{given}^^^^^^&{OID.PS_IDNAT}&ISO^D^^^IDNPS"


def _xon(org: etree._Element | None) -> str | None:
    if org is None:
        return None
    ident = _one(org, "h:id[@root='1.2.250.1.71.4.2.2']")
    if ident is None or not ident.get("extension"):
        return None
    name = _text(org, "h:name")
    return f"{name}^^^^^&{OID.STRUCT_IDNAT}&ISO^IDNST^^^{ident.get('extension')}"


def _code(root: etree._Element, path: str) -> Code | None:
    el = _one(root, path)
    if el is None or not el.get("code"):
        return None
    return Code(el.get("code"), el.get("codeSystem", ""), el.get("displayName", ""))


def _format_code(root: etree._Element) -> Code:
    templates = [t.get("root") for t in root.xpath("h:templateId", namespaces=_N)]
    media = _attr(root, "h:component/h:nonXMLBody/h:text", "mediaType")
    if media == "application/pdf" or "1.3.6.1.4.1.19376.1.2.20" in templates:
        code, scheme = FORMAT_BY_TEMPLATE["1.3.6.1.4.1.19376.1.2.20"]
        return Code(code, scheme, "Document à corps non structuré en PDF")
    for template in templates:
        if template in FORMAT_BY_TEMPLATE:
            code, scheme = FORMAT_BY_TEMPLATE[template]
            return Code(code, scheme, "Note de vaccination")
    return Code(
        "urn:asipSante:modelesHorsProfils:2011",
        "1.2.250.1.213.1.1.4.2.282",
        "Document non référencé IHE ou CI-SIS",
    )


def entry_from_cda(
    cda: bytes,
    *,
    patient_id: str,
    extra_confidentiality: tuple[Code, ...] = (),
) -> DocumentEntry:
    """Derive the DocumentEntry of a CDA R2 document from its header.

    ``patient_id`` is the INS as CX (``...^NH``); it must match the document's INS
    (``recordTarget/patientRole/id`` with an INS root). Raises ``DocumentError`` listing
    every missing header element.
    """
    root = parse_xml(cda, max_bytes=MAX_XML_BYTES)
    if root.tag != f"{{{H}}}ClinicalDocument":
        raise DocumentError("not a CDA R2 ClinicalDocument")
    issues: list[ValidationIssue] = []

    def need(value: object, where: str) -> None:
        if not value:
            issues.append(ValidationIssue(f"missing {where}", location=where, source="xds"))

    doc_root = _attr(root, "h:id", "root")
    doc_ext = _attr(root, "h:id", "extension")
    unique_id = f"{doc_root}^{doc_ext}" if doc_root and doc_ext else doc_root
    need(unique_id, "ClinicalDocument/id")
    type_code = _code(root, "h:code")
    need(type_code, "ClinicalDocument/code")
    confidentiality = _code(root, "h:confidentialityCode")
    need(confidentiality, "ClinicalDocument/confidentialityCode")
    created = _attr(root, "h:effectiveTime", "value")
    need(created, "ClinicalDocument/effectiveTime")
    facility = _code(
        root, "h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code"
    )
    need(facility, "componentOf/.../healthCareFacility/code")
    practice = _code(
        root,
        "h:documentationOf/h:serviceEvent/h:performer/h:assignedEntity/"
        "h:representedOrganization/h:standardIndustryClassCode",
    ) or _code(
        root,
        "h:legalAuthenticator/h:assignedEntity/h:representedOrganization/"
        "h:standardIndustryClassCode",
    )
    need(practice, "documentationOf/serviceEvent/performer/.../standardIndustryClassCode")
    ins_ids = [
        (i.get("extension"), i.get("root"))
        for i in root.xpath("h:recordTarget/h:patientRole/h:id", namespaces=_N)
        if i.get("root") in OID.INS_OIDS
    ]
    need(ins_ids, "recordTarget/patientRole/id (INS)")
    if ins_ids and patient_id and cx(ins_ids[0][0] or "", ins_ids[0][1] or "") != patient_id:
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

    authors = []
    for author in root.xpath("h:author", namespaces=_N):
        assigned = _one(author, "h:assignedAuthor")
        spec = _code(author, "h:assignedAuthor/h:code")
        role = _attr(author, "h:functionCode", "displayName")
        authors.append(
            Author(
                person=_xcn(assigned, "h:assignedPerson"),
                institutions=tuple(
                    x
                    for x in [_xon(_one(author, "h:assignedAuthor/h:representedOrganization"))]
                    if x
                ),
                roles=(role,) if role else (),
                specialties=(f"{spec.code}^{spec.display}^{spec.scheme}",) if spec else (),
            )
        )
    legal = _xcn(_one(root, "h:legalAuthenticator/h:assignedEntity"), "h:assignedPerson")
    klass, klass_name = CLASS_BY_TYPE.get(type_code.code, ("10", "Compte rendu"))
    patient = _one(root, "h:recordTarget/h:patientRole/h:patient")
    info = []
    if patient is not None:
        family = _text(patient, "h:name/h:family[@qualifier='BR']") or _text(
            patient, "h:name/h:family"
        )
        given = _text(patient, "h:name/h:given[@qualifier='BR']") or _text(
            patient, "h:name/h:given"
        )
        info.append(f"PID-5|{family}^{given}^^^^^L")
        birth = _attr(patient, "h:birthTime", "value")
        if birth:
            info.append(f"PID-7|{birth[:8]}")
        sex = _attr(patient, "h:administrativeGenderCode", "code")
        if sex:
            info.append(f"PID-8|{sex}")
    title = _text(root, "h:title")
    return DocumentEntry(
        unique_id=unique_id,
        patient_id=patient_id or cx(ins_ids[0][0] or "", ins_ids[0][1] or ""),
        class_code=Code(klass, OID.CLASS_CODE, klass_name),
        type_code=type_code,
        format_code=_format_code(root),
        confidentiality=(confidentiality, *extra_confidentiality),
        healthcare_facility=facility,
        practice_setting=practice,
        creation_time=xds_time(created),
        title=title,
        hash=hashlib.sha1(cda).hexdigest(),
        size=len(cda),
        language=_attr(root, "h:languageCode", "code") or "fr-FR",
        mime_type="text/xml",
        authors=tuple(authors),
        legal_authenticator=legal,
        service_start=_xds_time_or_none(
            _attr(root, "h:documentationOf/h:serviceEvent/h:effectiveTime/h:low", "value")
        ),
        service_stop=_xds_time_or_none(
            _attr(root, "h:documentationOf/h:serviceEvent/h:effectiveTime/h:high", "value")
        ),
        source_patient_id=patient_id,
        source_patient_info=tuple(info),
        version=_attr(root, "h:versionNumber", "value") or "1",
    )


def _xds_time_or_none(value: str | None) -> str | None:
    return xds_time(value) if value else None
