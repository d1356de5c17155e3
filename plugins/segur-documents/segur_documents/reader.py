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

from segur_core import cdaheader
from segur_core.errors import DocumentError
from segur_core.model import (
    INS,
    BirthDate,
    DocumentStatus,
    HealthDocument,
    IdentityTraits,
    Sex,
    hidden,
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
_H = "{urn:hl7-org:v3}"
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
    family_name: str | None = attrs.field(default=None, repr=hidden)
    given_name: str | None = attrs.field(default=None, repr=hidden)
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
    local_ids: tuple[tuple[str, str], ...] = attrs.field(converter=_tuple, repr=hidden)
    traits: IdentityTraits | None = None
    birth_name: str | None = attrs.field(default=None, repr=hidden)
    given_names: str | None = attrs.field(default=None, repr=hidden)


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


def _coded(value: cdaheader.Coded | None) -> CodedValue | None:
    return CodedValue(value.code, value.system, value.display) if value is not None else None


def _organization(org: cdaheader.Organization | None) -> Organization | None:
    if org is None:
        return None
    ident = org.ids[0] if org.ids else None
    return Organization(ident.root if ident else None, ident.extension if ident else None, org.name)


def _person(who: cdaheader.Participant | None) -> Person | None:
    if who is None:
        return None
    ident = who.ids[0] if who.ids else None
    return Person(
        ident.root if ident else None,
        ident.extension if ident else None,
        who.family_name,
        who.given_name,
        _coded(who.code),
        _organization(who.organization),
        who.time,
    )


def _birth_date(value: str | None) -> BirthDate | None:
    if not value or not re.match(r"^\d{4}(\d{2}(\d{2})?)?", value):
        return None
    try:
        return BirthDate(int(value[:4]), int(value[4:6] or 0), int(value[6:8] or 0))
    except (ValueError, TypeError):
        return None


_SEX = {"M": Sex.MALE, "F": Sex.FEMALE, "UN": Sex.UNKNOWN, "I": Sex.UNKNOWN}


def _patient(target: cdaheader.RecordTarget | None) -> PatientInfo | None:
    if target is None:
        return None
    traits = None
    birth = _birth_date(target.birth_time)
    sex = _SEX.get(target.sex or "")
    if target.birth_name and target.first_names and birth is not None and sex is not None:
        traits = IdentityTraits(
            birth_name=target.birth_name,
            first_names=tuple(target.first_names.split(" ")),
            sex=sex,
            birth_date=birth,
            birth_place=target.birth_place,
            used_name=target.used_name,
            used_first_name=target.used_first_name,
        )
    return PatientInfo(target.ins, target.local_ids, traits, target.birth_name, target.first_names)


def _section_title(section: etree._Element) -> str:
    """A section's title, else its code's display name."""
    title = section.find(f"{_H}title")
    text = " ".join("".join(title.itertext()).split()) if title is not None else ""
    code = section.find(f"{_H}code")
    if text or code is None or not code.get("code"):
        return text
    return code.get("displayName") or ""


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
    header = cdaheader.header_of(root)
    doc_id = header.id.value if header.id is not None else None
    if doc_id is None:
        raise DocumentError("the CDA document has no id")
    body_kind, media_type = "structured", None
    attachments: list[Attachment] = []
    non_xml = root.find(f"{_H}component/{_H}nonXMLBody/{_H}text")
    sections: list[str] = []
    if non_xml is not None:
        body_kind = "nonXMLBody"
        media_type = non_xml.get("mediaType") or "text/plain"
        if (non_xml.get("representation") or "TXT").upper() == "B64":
            payload = _b64(non_xml.text, "nonXMLBody")
        else:
            payload = (non_xml.text or "").encode("utf-8")
        attachments.append(Attachment(media_type, payload, "nonXMLBody"))
    elif root.find(f"{_H}component/{_H}structuredBody") is not None:
        for section in root.iterfind(f"{_H}component/{_H}structuredBody/{_H}component/{_H}section"):
            sections.append(_section_title(section))
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
        set_id=header.set_id.value if header.set_id is not None else None,
        version=header.version,
        type=_coded(header.code),
        title=header.title,
        effective_time=header.effective_time,
        confidentiality=header.confidentiality.code if header.confidentiality else None,
        templates=header.templates,
        patient=_patient(header.patient),
        authors=tuple(p for p in (_person(a) for a in header.authors) if p),
        custodian=_organization(header.custodian),
        legal_authenticator=_person(header.legal_authenticator),
        replaces=header.replaces,
        body_kind=body_kind,
        media_type=media_type,
        sections=tuple(sections),
        attachments=tuple(attachments),
    )
