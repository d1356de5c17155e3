"""The ebRIM 3.0 objects of an XDM ``METADATA.XML`` written straight as XML text.

:mod:`segur_core.xds.ebrim` builds the same objects as lxml elements (what a SOAP
envelope embeds); a ``SubmitObjectsRequest`` on its own is written here from a fixed
layout instead, several times faster, byte for byte what lxml's pretty printer gives
for those elements: the same attributes in the same order, the same indentation, the
same escaping (libxml2's: ``& < >`` everywhere, ``"`` and tab, line feed, carriage
return in attributes as character references, a carriage return in text too), the same
refusals in the same order (a value over its ebRIM limit raises
:class:`~segur_core.xds.hl7v2.MetadataLimitError`; a character XML cannot carry raises
lxml's ``ValueError``, a lone surrogate ``UnicodeEncodeError``) and the same fresh UUIDs
drawn in the same order. tests/core/test_ebrimxml.py holds both writers to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from segur_core.xds.hl7v2 import FREE_FORM_TEXT, LONG_NAME, MetadataLimitError
from segur_core.xds.metadata import Author, Code, DocumentEntry, SubmissionSet, new_urn
from segur_core.xds.ns import NS, UUID

__all__ = ["submit_objects_request"]

#: What lxml refuses in a text or attribute value: anything that is not an XML ``Char``.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: What needs a second look: a character to escape or to refuse.
_TEXT_LOOK = re.compile(
    "[^\t\n\x20-\x25\x27-\x3b\x3d\x3f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_ATTR_LOOK = re.compile(
    "[^\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_TEXT_SPECIAL = re.compile("[&<>\r]")
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r]')
_REFS = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "\t": "&#9;", "\n": "&#10;", "\r": "&#13;",
}  # fmt: skip


def _escaped(value: str, special: re.Pattern[str]) -> str:
    if _NOT_XML.search(value) is not None:
        value.encode("utf-8")  # a lone surrogate: UnicodeEncodeError, as lxml raises
        raise ValueError(
            "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or "
            "control characters"
        )
    return special.sub(lambda m: _REFS[m.group()], value)


def _t(value: str) -> str:
    """``value`` as element text."""
    return value if _TEXT_LOOK.search(value) is None else _escaped(value, _TEXT_SPECIAL)


def _a(value: str) -> str:
    """``value`` as an attribute value (between double quotes)."""
    return value if _ATTR_LOOK.search(value) is None else _escaped(value, _ATTR_SPECIAL)


_PAD = ["  " * depth for depth in range(8)]
_CLASSIFICATION = f' objectType="{UUID.CLASSIFICATION}"'
_EXTERNAL_ID = f' objectType="{UUID.EXTERNAL_IDENTIFIER}"'


def _slot(out: list[str], depth: int, name: str, values: Iterable[str]) -> None:
    pad = _PAD[depth]
    head = f'{pad}<rim:Slot name="{_a(name)}">'
    rows = []
    for value in values:
        if len(value) > LONG_NAME:
            raise MetadataLimitError(name, LONG_NAME)
        rows.append(f"{pad}    <rim:Value>{_t(value)}</rim:Value>")
    out.append(head)
    if rows:
        out.append(f"{pad}  <rim:ValueList>")
        out += rows
        out.append(f"{pad}  </rim:ValueList>")
    else:
        out.append(f"{pad}  <rim:ValueList/>")
    out.append(f"{pad}</rim:Slot>")


def _localized(out: list[str], depth: int, tag: str, text: str) -> None:
    if len(text) > FREE_FORM_TEXT:
        raise MetadataLimitError(tag, FREE_FORM_TEXT)
    pad = _PAD[depth]
    out.append(f"{pad}<rim:{tag}>")
    out.append(f'{pad}  <rim:LocalizedString charset="UTF8" value="{_a(text)}" xml:lang="FR"/>')
    out.append(f"{pad}</rim:{tag}>")


def _classification_head(depth: int, scheme: str, obj: str, representation: str) -> str:
    return (
        f'{_PAD[depth]}<rim:Classification id="{new_urn()}" '
        f'classificationScheme="{_a(scheme)}" classifiedObject="{_a(obj)}" '
        f'nodeRepresentation="{_a(representation)}"{_CLASSIFICATION}'
    )


def _classification(out: list[str], depth: int, scheme: str, obj: str, code: Code) -> None:
    out.append(_classification_head(depth, scheme, obj, code.code) + ">")
    _slot(out, depth + 1, "codingScheme", [code.scheme])
    _localized(out, depth + 1, "Name", code.display or code.code)
    out.append(f"{_PAD[depth]}</rim:Classification>")


def _author(out: list[str], depth: int, scheme: str, obj: str, author: Author) -> None:
    head = _classification_head(depth, scheme, obj, "")
    inner: list[str] = []
    if author.person:
        _slot(inner, depth + 1, "authorPerson", [author.person])
    if author.institutions:
        _slot(inner, depth + 1, "authorInstitution", author.institutions)
    if author.roles:
        _slot(inner, depth + 1, "authorRole", author.roles)
    if author.specialties:
        _slot(inner, depth + 1, "authorSpecialty", author.specialties)
    if not inner:
        out.append(head + "/>")
        return
    out.append(head + ">")
    out += inner
    out.append(f"{_PAD[depth]}</rim:Classification>")


def _external_id(out: list[str], depth: int, scheme: str, obj: str, value: str, name: str) -> None:
    out.append(
        f'{_PAD[depth]}<rim:ExternalIdentifier id="{new_urn()}" '
        f'identificationScheme="{_a(scheme)}" registryObject="{_a(obj)}" '
        f'value="{_a(value)}"{_EXTERNAL_ID}>'
    )
    _localized(out, depth + 1, "Name", name)
    out.append(f"{_PAD[depth]}</rim:ExternalIdentifier>")


def _document_entry(out: list[str], depth: int, entry: DocumentEntry, uri: str) -> None:
    """ebrim.document_entry_element with its ``URI`` slot after its other slots."""
    oid = entry.entry_uuid
    head = (
        f'{_PAD[depth]}<rim:ExtrinsicObject id="{_a(oid)}" mimeType="{_a(entry.mime_type)}" '
        f'objectType="{UUID.DOCUMENT_ENTRY}" status="{_a(entry.status)}"'
    )
    if entry.lid:
        head += f' lid="{_a(entry.lid)}"'
    out.append(head + ">")
    inner = depth + 1
    _slot(out, inner, "creationTime", [entry.creation_time])
    _slot(out, inner, "languageCode", [entry.language])
    if entry.legal_authenticator:
        _slot(out, inner, "legalAuthenticator", [entry.legal_authenticator])
    if entry.service_start:
        _slot(out, inner, "serviceStartTime", [entry.service_start])
    if entry.service_stop:
        _slot(out, inner, "serviceStopTime", [entry.service_stop])
    _slot(out, inner, "sourcePatientId", [entry.source_patient_id or entry.patient_id])
    if entry.source_patient_info:
        _slot(out, inner, "sourcePatientInfo", entry.source_patient_info)
    if entry.hash:
        _slot(out, inner, "hash", [entry.hash])
    if entry.size:
        _slot(out, inner, "size", [str(entry.size)])
    if entry.repository_id:
        _slot(out, inner, "repositoryUniqueId", [entry.repository_id])
    after_slots = len(out)
    _localized(out, inner, "Name", entry.title)
    if entry.version:
        out.append(f'{_PAD[inner]}<rim:VersionInfo versionName="{_a(entry.version)}"/>')
    for author in entry.authors:
        _author(out, inner, UUID.DE_AUTHOR, oid, author)
    _classification(out, inner, UUID.DE_CLASS, oid, entry.class_code)
    for code in entry.confidentiality:
        _classification(out, inner, UUID.DE_CONFIDENTIALITY, oid, code)
    for code in entry.event_codes:
        _classification(out, inner, UUID.DE_EVENT, oid, code)
    _classification(out, inner, UUID.DE_FORMAT, oid, entry.format_code)
    _classification(out, inner, UUID.DE_FACILITY, oid, entry.healthcare_facility)
    _classification(out, inner, UUID.DE_PRACTICE, oid, entry.practice_setting)
    _classification(out, inner, UUID.DE_TYPE, oid, entry.type_code)
    _external_id(
        out, inner, UUID.DE_PATIENT_ID, oid, entry.patient_id, "XDSDocumentEntry.patientId"
    )
    _external_id(out, inner, UUID.DE_UNIQUE_ID, oid, entry.unique_id, "XDSDocumentEntry.uniqueId")
    uri_slot: list[str] = []
    _slot(uri_slot, inner, "URI", [uri])
    out[after_slots:after_slots] = uri_slot
    out.append(f"{_PAD[depth]}</rim:ExtrinsicObject>")


def _submission_set(out: list[str], depth: int, ss: SubmissionSet) -> None:
    oid = ss.entry_uuid
    out.append(
        f'{_PAD[depth]}<rim:RegistryPackage id="{_a(oid)}" objectType="{UUID.REGISTRY_PACKAGE}">'
    )
    inner = depth + 1
    _slot(out, inner, "submissionTime", [ss.submission_time])
    if ss.title:
        _localized(out, inner, "Name", ss.title)
    for author in ss.authors:
        _author(out, inner, UUID.SS_AUTHOR, oid, author)
    _classification(out, inner, UUID.SS_CONTENT_TYPE, oid, ss.content_type)
    _external_id(out, inner, UUID.SS_UNIQUE_ID, oid, ss.unique_id, "XDSSubmissionSet.uniqueId")
    _external_id(out, inner, UUID.SS_SOURCE_ID, oid, ss.source_id, "XDSSubmissionSet.sourceId")
    _external_id(out, inner, UUID.SS_PATIENT_ID, oid, ss.patient_id, "XDSSubmissionSet.patientId")
    out.append(f"{_PAD[depth]}</rim:RegistryPackage>")
    out.append(
        f'{_PAD[depth]}<rim:Classification id="{new_urn()}" '
        f'classifiedObject="{_a(oid)}" classificationNode="{UUID.SUBMISSION_SET}"'
        f"{_CLASSIFICATION}/>"
    )


def _has_member(out: list[str], depth: int, source: str, target: str) -> None:
    out.append(
        f'{_PAD[depth]}<rim:Association id="{new_urn()}" '
        f'associationType="{UUID.HAS_MEMBER}" sourceObject="{_a(source)}" '
        f'targetObject="{_a(target)}" objectType="{UUID.ASSOCIATION}">'
    )
    _slot(out, depth + 1, "SubmissionSetStatus", ["Original"])
    out.append(f"{_PAD[depth]}</rim:Association>")


def submit_objects_request(
    submission: SubmissionSet, entries: Sequence[tuple[DocumentEntry, str]]
) -> bytes:
    """The ``lcm:SubmitObjectsRequest`` of ``submission`` and its ``(entry, uri)``
    documents (each a ``HasMember`` association), UTF-8 with its XML declaration."""
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<lcm:SubmitObjectsRequest xmlns:lcm="{NS["lcm"]}" xmlns:rim="{NS["rim"]}">',
        "  <rim:RegistryObjectList>",
    ]
    _submission_set(out, 2, submission)
    for entry, uri in entries:
        _document_entry(out, 2, entry, uri)
        _has_member(out, 2, submission.entry_uuid, entry.entry_uuid)
    out.append("  </rim:RegistryObjectList>")
    out.append("</lcm:SubmitObjectsRequest>\n")
    return "\n".join(out).encode("utf-8")
