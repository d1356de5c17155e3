"""Read any received CDA R2 document (any volet, N1 or N3) into a summary model.

The bytes go through the hardened parser; anything that is not a CDA R2
``ClinicalDocument`` is refused with :class:`~segur_core.errors.DocumentError`.
Missing optional parts become ``None``; identity traits are kept only when all five
strict traits can be read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re

import attrs
from lxml import etree

from segur_core.errors import DocumentError
from segur_core.model import (
    INS,
    BirthDate,
    DocumentStatus,
    HealthDocument,
    IdentityTraits,
    Sex,
)
from segur_core.safexml import parse_xml
from segur_documents import codes
from segur_documents.cda import MAX_XML_BYTES

__all__ = [
    "Attachment",
    "CdaDocument",
    "CodedValue",
    "Organization",
    "PatientInfo",
    "Person",
    "parse_ts",
    "read_cda",
]

_NS = {"c": "urn:hl7-org:v3"}
_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")
_MAX_ATTACHMENT = 48 * 1024 * 1024


def _tuple(value: object) -> tuple:
    return tuple(value)  # type: ignore[arg-type]


def parse_ts(value: str | None) -> dt.datetime | None:
    """A CDA TS (``AAAA[MM[JJ[hh[mm[ss]]]]][±zzzz]``) as a datetime, or ``None``."""
    if not value:
        return None
    match = _TS.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    tz: dt.tzinfo | None = None
    if offset:
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[3:5])
        if hours > 23 or minutes > 59:
            return None
        tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return dt.datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=tz,
        )
    except ValueError:
        return None


@attrs.frozen
class CodedValue:
    code: str
    system: str | None = None
    display: str | None = None


@attrs.frozen
class Organization:
    id_root: str | None
    id: str | None
    name: str | None = None

    @property
    def finess(self) -> str | None:
        """The FINESS when the id is a ``1``-prefixed Struct_IdNat."""
        if self.id_root == codes.STRUCT_IDNAT and self.id and self.id.startswith("1"):
            return self.id[1:]
        return None


@attrs.frozen
class Person:
    """An author, legal authenticator or performer."""

    id_root: str | None
    id: str | None
    family_name: str | None = None
    given_name: str | None = None
    profession: CodedValue | None = None
    organization: Organization | None = None
    time: str | None = None

    @property
    def rpps(self) -> str | None:
        if self.id_root == codes.PS_IDNAT and self.id and self.id.startswith("8"):
            return self.id[1:]
        return None


@attrs.frozen
class PatientInfo:
    """The patient as the document names them."""

    ins: INS | None
    local_ids: tuple[tuple[str, str], ...] = attrs.field(converter=_tuple)
    traits: IdentityTraits | None = None
    birth_name: str | None = None
    given_names: str | None = None


@attrs.frozen
class Attachment:
    """An embedded file: the N1 body or a structured body's ``observationMedia``."""

    media_type: str
    data: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    origin: str = "nonXMLBody"


@attrs.frozen
class CdaDocument:
    """What a CDA document says about itself."""

    id: str
    set_id: str | None
    version: int | None
    type: CodedValue | None
    title: str | None
    effective_time: str | None
    confidentiality: str | None
    templates: tuple[str, ...] = attrs.field(converter=_tuple)
    patient: PatientInfo | None = None
    authors: tuple[Person, ...] = attrs.field(default=(), converter=_tuple)
    custodian: Organization | None = None
    legal_authenticator: Person | None = None
    replaces: str | None = None
    body_kind: str = "structured"  # or "nonXMLBody"
    media_type: str | None = None
    sections: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    attachments: tuple[Attachment, ...] = attrs.field(default=(), converter=_tuple)

    @property
    def level(self) -> str:
        """``N1`` (non-structured) or ``N3`` (structured)."""
        return "N1" if self.body_kind == "nonXMLBody" else "N3"

    @property
    def effective_datetime(self) -> dt.datetime | None:
        return parse_ts(self.effective_time)

    @property
    def organization(self) -> Organization | None:
        """The author's organisation (else the custodian)."""
        for author in self.authors:
            if author.organization is not None:
                return author.organization
        return self.custodian

    def to_health_document(self, content: bytes, patient_id: str) -> HealthDocument:
        """The received document as a :class:`HealthDocument` (status ``received``)."""
        created = self.effective_datetime
        if created is not None and created.tzinfo is None:
            created = created.replace(tzinfo=dt.UTC)
        extra = {"created_at": created} if created is not None else {}
        return HealthDocument(
            id=self.id,
            patient_id=patient_id,
            type_code=self.type.code if self.type else "",
            title=self.title or "",
            content=content,
            media_type="text/xml",
            set_id=self.set_id,
            version=self.version or 1,
            replaces=self.replaces,
            status=DocumentStatus.RECEIVED,
            author_rpps=self.authors[0].rpps if self.authors else None,
            confidentiality=self.confidentiality or "N",
            **extra,
        )


def _first(node: etree._Element, path: str) -> etree._Element | None:
    found = node.xpath(path, namespaces=_NS)
    return found[0] if found else None


def _text(node: etree._Element | None, path: str) -> str | None:
    if node is None:
        return None
    found = _first(node, path)
    if found is None:
        return None
    value = " ".join("".join(found.itertext()).split())
    return value or None


def _ii(node: etree._Element | None) -> str | None:
    if node is None or not node.get("root"):
        return None
    return node.get("root") + (f"^{node.get('extension')}" if node.get("extension") else "")


def _coded(node: etree._Element | None) -> CodedValue | None:
    if node is None or not node.get("code"):
        return None
    return CodedValue(node.get("code"), node.get("codeSystem"), node.get("displayName"))


def _organization(node: etree._Element | None) -> Organization | None:
    if node is None:
        return None
    ident = _first(node, "c:id")
    return Organization(
        ident.get("root") if ident is not None else None,
        ident.get("extension") if ident is not None else None,
        _text(node, "c:name"),
    )


def _person(node: etree._Element | None, entity: str) -> Person | None:
    if node is None:
        return None
    assigned = _first(node, entity)
    if assigned is None:
        return None
    ident = _first(assigned, "c:id")
    person = _first(assigned, "c:assignedPerson/c:name")
    time = _first(node, "c:time")
    return Person(
        ident.get("root") if ident is not None else None,
        ident.get("extension") if ident is not None else None,
        _text(person, "c:family"),
        _text(person, "c:given"),
        _coded(_first(assigned, "c:code")),
        _organization(_first(assigned, "c:representedOrganization")),
        time.get("value") if time is not None else None,
    )


def _birth_date(value: str | None) -> BirthDate | None:
    if not value or not re.match(r"^\d{4}(\d{2}(\d{2})?)?", value):
        return None
    try:
        return BirthDate(int(value[:4]), int(value[4:6] or 0), int(value[6:8] or 0))
    except (ValueError, TypeError):
        return None


def _patient(root: etree._Element) -> PatientInfo | None:
    role = _first(root, "c:recordTarget/c:patientRole")
    if role is None:
        return None
    ins = None
    local = []
    for ident in role.xpath("c:id", namespaces=_NS):
        oid, ext = ident.get("root"), ident.get("extension")
        if not oid or not ext:
            continue
        if oid in codes.INS_OIDS and ins is None:
            ins = INS(ext, oid)
        else:
            local.append((oid, ext))
    person = _first(role, "c:patient")
    traits = None
    birth_name = given = None
    if person is not None:
        birth_name = _text(person, "c:name/c:family[@qualifier='BR']") or _text(
            person, "c:name/c:family"
        )
        given = _text(person, "c:name/c:given[not(@qualifier)]") or _text(person, "c:name/c:given")
        gender = _first(person, "c:administrativeGenderCode")
        birth_time = _first(person, "c:birthTime")
        birth = _birth_date(birth_time.get("value") if birth_time is not None else None)
        sex = {"M": Sex.MALE, "F": Sex.FEMALE, "UN": Sex.UNKNOWN, "I": Sex.UNKNOWN}.get(
            gender.get("code", "") if gender is not None else ""
        )
        if birth_name and given and birth is not None and sex is not None:
            traits = IdentityTraits(
                birth_name=birth_name,
                first_names=tuple(given.split(" ")),
                sex=sex,
                birth_date=birth,
                birth_place=_text(person, "c:birthplace/c:place/c:addr/c:county"),
                used_name=_text(person, "c:name/c:family[@qualifier='CL']"),
                used_first_name=_text(person, "c:name/c:given[@qualifier='CL']"),
            )
    return PatientInfo(ins, tuple(local), traits, birth_name, given)


def _b64(text: str | None, where: str) -> bytes:
    compact = "".join((text or "").split())
    if len(compact) * 3 // 4 > _MAX_ATTACHMENT:
        raise DocumentError(f"{where}: attachment too large")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise DocumentError(f"{where}: the attachment is not valid base64") from None


def read_cda(data: bytes) -> CdaDocument:
    """Parse a CDA R2 document; raise a typed error on anything else."""
    root = parse_xml(data, max_bytes=MAX_XML_BYTES)
    qname = etree.QName(root)
    if qname.localname != "ClinicalDocument" or qname.namespace != _NS["c"]:
        raise DocumentError("not a CDA R2 document (root is not urn:hl7-org:v3 ClinicalDocument)")
    doc_id = _ii(_first(root, "c:id"))
    if doc_id is None:
        raise DocumentError("the CDA document has no id")
    version_node = _first(root, "c:versionNumber")
    version = None
    if version_node is not None and (version_node.get("value") or "").isdigit():
        version = int(version_node.get("value"))
    effective = _first(root, "c:effectiveTime")
    confidentiality = _first(root, "c:confidentialityCode")
    body_kind, media_type = "structured", None
    attachments: list[Attachment] = []
    non_xml = _first(root, "c:component/c:nonXMLBody/c:text")
    sections: list[str] = []
    if non_xml is not None:
        body_kind = "nonXMLBody"
        media_type = non_xml.get("mediaType") or "text/plain"
        if (non_xml.get("representation") or "TXT").upper() == "B64":
            payload = _b64(non_xml.text, "nonXMLBody")
        else:
            payload = (non_xml.text or "").encode("utf-8")
        attachments.append(Attachment(media_type, payload, "nonXMLBody"))
    elif _first(root, "c:component/c:structuredBody") is not None:
        for section in root.xpath(
            "c:component/c:structuredBody/c:component/c:section", namespaces=_NS
        ):
            sections.append(
                _text(section, "c:title")
                or ((_coded(_first(section, "c:code")) or CodedValue("?")).display or "")
            )
        for value in root.xpath(".//c:observationMedia/c:value", namespaces=_NS):
            media = value.get("mediaType") or "application/octet-stream"
            if (value.get("representation") or "").upper() == "B64":
                attachments.append(
                    Attachment(media, _b64(value.text, "observationMedia"), "observationMedia")
                )
    else:
        raise DocumentError("the CDA document has no body (structuredBody or nonXMLBody)")
    return CdaDocument(
        id=doc_id,
        set_id=_ii(_first(root, "c:setId")),
        version=version,
        type=_coded(_first(root, "c:code")),
        title=_text(root, "c:title"),
        effective_time=effective.get("value") if effective is not None else None,
        confidentiality=confidentiality.get("code") if confidentiality is not None else None,
        templates=tuple(t for t in root.xpath("c:templateId/@root", namespaces=_NS)),
        patient=_patient(root),
        authors=tuple(
            p
            for p in (
                _person(a, "c:assignedAuthor") for a in root.xpath("c:author", namespaces=_NS)
            )
            if p
        ),
        custodian=_organization(
            _first(root, "c:custodian/c:assignedCustodian/c:representedCustodianOrganization")
        ),
        legal_authenticator=_person(_first(root, "c:legalAuthenticator"), "c:assignedEntity"),
        replaces=_ii(_first(root, "c:relatedDocument[@typeCode='RPLC']/c:parentDocument/c:id")),
        body_kind=body_kind,
        media_type=media_type,
        sections=tuple(sections),
        attachments=tuple(attachments),
    )
