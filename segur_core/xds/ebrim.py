"""ebRIM 3.0 encoding of XDS metadata (IHE ITI TF-3 §4.2), both ways: DocumentEntry
(``rim:ExtrinsicObject``), SubmissionSet (``rim:RegistryPackage``) and associations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lxml import etree

from segur_core.errors import MetadataError
from segur_core.xds.hl7v2 import FREE_FORM_TEXT, LONG_NAME, MetadataLimitError
from segur_core.xds.metadata import Author, Code, DocumentEntry, SubmissionSet, new_urn
from segur_core.xds.ns import NS, UUID

__all__ = [
    "association",
    "document_entry_element",
    "read_document_entry",
    "read_submission_set",
    "rim",
    "slot",
    "slots_of",
    "submission_set_classification",
    "submission_set_element",
]


def rim(name: str) -> str:
    return f"{{{NS['rim']}}}{name}"


def slot(parent: etree._Element, name: str, values: Iterable[str]) -> etree._Element:
    """Append ``rim:Slot name=... / ValueList / Value*``; a value over the ebRIM
    ``LongName`` limit (256) raises :class:`MetadataLimitError` (a registry refuses it)."""
    el = etree.SubElement(parent, rim("Slot"), name=name)
    vlist = etree.SubElement(el, rim("ValueList"))
    for value in values:
        if len(value) > LONG_NAME:
            raise MetadataLimitError(name, LONG_NAME)
        etree.SubElement(vlist, rim("Value")).text = value
    return el


def _localized(parent: etree._Element, tag: str, text: str) -> None:
    if len(text) > FREE_FORM_TEXT:
        raise MetadataLimitError(tag, FREE_FORM_TEXT)
    holder = etree.SubElement(parent, rim(tag))
    etree.SubElement(
        holder,
        rim("LocalizedString"),
        charset="UTF8",
        value=text,
        **{"{http://www.w3.org/XML/1998/namespace}lang": "FR"},
    )


def _classification_node(
    parent: etree._Element, scheme: str, obj: str, representation: str
) -> etree._Element:
    """An external ``rim:Classification`` of ``obj`` under ``scheme`` (fresh id)."""
    return etree.SubElement(
        parent,
        rim("Classification"),
        id=new_urn(),
        classificationScheme=scheme,
        classifiedObject=obj,
        nodeRepresentation=representation,
        objectType=UUID.CLASSIFICATION,
    )


def _classification(parent: etree._Element, scheme: str, obj: str, code: Code) -> etree._Element:
    el = _classification_node(parent, scheme, obj, code.code)
    slot(el, "codingScheme", [code.scheme])
    _localized(el, "Name", code.display or code.code)
    return el


def _author(parent: etree._Element, scheme: str, obj: str, author: Author) -> None:
    el = _classification_node(parent, scheme, obj, "")
    if author.person:
        slot(el, "authorPerson", [author.person])
    if author.institutions:
        slot(el, "authorInstitution", author.institutions)
    if author.roles:
        slot(el, "authorRole", author.roles)
    if author.specialties:
        slot(el, "authorSpecialty", author.specialties)


def _external_id(parent: etree._Element, scheme: str, obj: str, value: str, name: str) -> None:
    el = etree.SubElement(
        parent,
        rim("ExternalIdentifier"),
        id=new_urn(),
        identificationScheme=scheme,
        registryObject=obj,
        value=value,
        objectType=UUID.EXTERNAL_IDENTIFIER,
    )
    _localized(el, "Name", name)


def document_entry_element(entry: DocumentEntry, *, object_id: str | None = None) -> etree._Element:
    """``rim:ExtrinsicObject`` for a DocumentEntry (``id`` = ``object_id`` or its entryUUID)."""
    oid = object_id or entry.entry_uuid
    attrs = {
        "id": oid,
        "mimeType": entry.mime_type,
        "objectType": UUID.DOCUMENT_ENTRY,
        "status": entry.status,
    }
    if entry.lid:
        attrs["lid"] = entry.lid
    eo = etree.Element(rim("ExtrinsicObject"), attrs)
    slot(eo, "creationTime", [entry.creation_time])
    slot(eo, "languageCode", [entry.language])
    if entry.legal_authenticator:
        slot(eo, "legalAuthenticator", [entry.legal_authenticator])
    if entry.service_start:
        slot(eo, "serviceStartTime", [entry.service_start])
    if entry.service_stop:
        slot(eo, "serviceStopTime", [entry.service_stop])
    slot(eo, "sourcePatientId", [entry.source_patient_id or entry.patient_id])
    if entry.source_patient_info:
        slot(eo, "sourcePatientInfo", entry.source_patient_info)
    if entry.hash:
        slot(eo, "hash", [entry.hash])
    if entry.size:
        slot(eo, "size", [str(entry.size)])
    if entry.repository_id:
        slot(eo, "repositoryUniqueId", [entry.repository_id])
    _localized(eo, "Name", entry.title)
    if entry.version:
        etree.SubElement(eo, rim("VersionInfo"), versionName=entry.version)
    for author in entry.authors:
        _author(eo, UUID.DE_AUTHOR, oid, author)
    _classification(eo, UUID.DE_CLASS, oid, entry.class_code)
    for code in entry.confidentiality:
        _classification(eo, UUID.DE_CONFIDENTIALITY, oid, code)
    for code in entry.event_codes:
        _classification(eo, UUID.DE_EVENT, oid, code)
    _classification(eo, UUID.DE_FORMAT, oid, entry.format_code)
    _classification(eo, UUID.DE_FACILITY, oid, entry.healthcare_facility)
    _classification(eo, UUID.DE_PRACTICE, oid, entry.practice_setting)
    _classification(eo, UUID.DE_TYPE, oid, entry.type_code)
    _external_id(eo, UUID.DE_PATIENT_ID, oid, entry.patient_id, "XDSDocumentEntry.patientId")
    _external_id(eo, UUID.DE_UNIQUE_ID, oid, entry.unique_id, "XDSDocumentEntry.uniqueId")
    return eo


def submission_set_element(ss: SubmissionSet) -> etree._Element:
    """``rim:RegistryPackage`` + its SubmissionSet classification."""
    oid = ss.entry_uuid
    rp = etree.Element(rim("RegistryPackage"), id=oid, objectType=UUID.REGISTRY_PACKAGE)
    slot(rp, "submissionTime", [ss.submission_time])
    if ss.title:
        _localized(rp, "Name", ss.title)
    for author in ss.authors:
        _author(rp, UUID.SS_AUTHOR, oid, author)
    _classification(rp, UUID.SS_CONTENT_TYPE, oid, ss.content_type)
    _external_id(rp, UUID.SS_UNIQUE_ID, oid, ss.unique_id, "XDSSubmissionSet.uniqueId")
    _external_id(rp, UUID.SS_SOURCE_ID, oid, ss.source_id, "XDSSubmissionSet.sourceId")
    _external_id(rp, UUID.SS_PATIENT_ID, oid, ss.patient_id, "XDSSubmissionSet.patientId")
    return rp


def submission_set_classification(ss: SubmissionSet) -> etree._Element:
    return etree.Element(
        rim("Classification"),
        id=new_urn(),
        classifiedObject=ss.entry_uuid,
        classificationNode=UUID.SUBMISSION_SET,
        objectType=UUID.CLASSIFICATION,
    )


def association(
    kind: str, source: str, target: str, *, slots: Sequence[tuple[str, Sequence[str]]] = ()
) -> etree._Element:
    el = etree.Element(
        rim("Association"),
        id=new_urn(),
        associationType=kind,
        sourceObject=source,
        targetObject=target,
        objectType=UUID.ASSOCIATION,
    )
    for name, values in slots:
        slot(el, name, values)
    return el


# -- reading -------------------------------------------------------------------------------


def slots_of(el: etree._Element) -> dict[str, list[str]]:
    """``{slot name: [values]}`` of an ebRIM object (its own slots only)."""
    out: dict[str, list[str]] = {}
    for s in el.findall(rim("Slot")):
        out.setdefault(s.get("name", ""), []).extend(
            (v.text or "") for v in s.iterfind(f"{rim('ValueList')}/{rim('Value')}")
        )
    return out


def _name(el: etree._Element) -> str:
    ls = el.find(f"{rim('Name')}/{rim('LocalizedString')}")
    return ls.get("value", "") if ls is not None else ""


def _codes(el: etree._Element, scheme: str) -> list[Code]:
    out = []
    for c in el.findall(rim("Classification")):
        if c.get("classificationScheme") == scheme:
            coding = slots_of(c).get("codingScheme", [""])
            out.append(Code(c.get("nodeRepresentation", ""), coding[0] if coding else "", _name(c)))
    return out


def _authors(el: etree._Element, scheme: str) -> list[Author]:
    out = []
    for c in el.findall(rim("Classification")):
        if c.get("classificationScheme") == scheme:
            s = slots_of(c)
            out.append(
                Author(
                    person=next(iter(s.get("authorPerson", [])), None),
                    institutions=tuple(s.get("authorInstitution", [])),
                    roles=tuple(s.get("authorRole", [])),
                    specialties=tuple(s.get("authorSpecialty", [])),
                )
            )
    return out


def _ext(el: etree._Element, scheme: str) -> str:
    for e in el.findall(rim("ExternalIdentifier")):
        if e.get("identificationScheme") == scheme:
            return e.get("value", "")
    return ""


def _single(codes: list[Code], what: str) -> Code:
    if len(codes) != 1:
        raise MetadataError(f"DocumentEntry must have exactly one {what} (has {len(codes)})")
    return codes[0]


def read_document_entry(eo: etree._Element) -> DocumentEntry:
    """A DocumentEntry from a ``rim:ExtrinsicObject``; raises ``MetadataError`` (an
    ``InputError``) when a mandatory element is missing or repeated."""
    s = slots_of(eo)

    def one(name: str, required: bool = True) -> str | None:
        values = s.get(name, [])
        if required and len(values) != 1:
            raise MetadataError(f"DocumentEntry slot {name!r} must have exactly one value")
        return values[0] if values else None

    version = eo.find(rim("VersionInfo"))
    unique_id = _ext(eo, UUID.DE_UNIQUE_ID)
    patient = _ext(eo, UUID.DE_PATIENT_ID)
    if not unique_id or not patient:
        raise MetadataError("DocumentEntry lacks uniqueId or patientId")
    return DocumentEntry(
        unique_id=unique_id,
        patient_id=patient,
        class_code=_single(_codes(eo, UUID.DE_CLASS), "classCode"),
        type_code=_single(_codes(eo, UUID.DE_TYPE), "typeCode"),
        format_code=_single(_codes(eo, UUID.DE_FORMAT), "formatCode"),
        confidentiality=tuple(_codes(eo, UUID.DE_CONFIDENTIALITY)),
        healthcare_facility=_single(_codes(eo, UUID.DE_FACILITY), "healthcareFacilityTypeCode"),
        practice_setting=_single(_codes(eo, UUID.DE_PRACTICE), "practiceSettingCode"),
        event_codes=tuple(_codes(eo, UUID.DE_EVENT)),
        creation_time=one("creationTime") or "",
        title=_name(eo),
        hash=one("hash", False) or "",
        size=int(one("size", False) or 0),
        language=one("languageCode") or "",
        mime_type=eo.get("mimeType", ""),
        authors=tuple(_authors(eo, UUID.DE_AUTHOR)),
        legal_authenticator=one("legalAuthenticator", False),
        service_start=one("serviceStartTime", False),
        service_stop=one("serviceStopTime", False),
        source_patient_id=one("sourcePatientId", False),
        source_patient_info=tuple(s.get("sourcePatientInfo", [])),
        entry_uuid=eo.get("id", ""),
        status=eo.get("status", UUID.APPROVED),
        repository_id=one("repositoryUniqueId", False),
        version=version.get("versionName", "1") if version is not None else "1",
        lid=eo.get("lid"),
    )


def read_submission_set(rp: etree._Element) -> SubmissionSet:
    s = slots_of(rp)
    content = _codes(rp, UUID.SS_CONTENT_TYPE)
    return SubmissionSet(
        unique_id=_ext(rp, UUID.SS_UNIQUE_ID),
        source_id=_ext(rp, UUID.SS_SOURCE_ID),
        patient_id=_ext(rp, UUID.SS_PATIENT_ID),
        submission_time=(s.get("submissionTime") or [""])[0],
        content_type=content[0] if content else Code("", ""),
        authors=tuple(_authors(rp, UUID.SS_AUTHOR)),
        title=_name(rp) or None,
        entry_uuid=rp.get("id", ""),
    )
