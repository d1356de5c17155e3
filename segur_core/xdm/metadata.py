"""``METADATA.XML``: the ebRS ``SubmitObjectsRequest`` of an XDM subset, both ways.

The XDS metadata themselves (the CDA header → DocumentEntry mapping and its ebRIM
encoding) are :mod:`segur_core.xds`'s; XDM adds
the ``URI`` slot naming each document's file in the subset. What we write follows the
RIM schema strictly; what we read is read leniently, because the ANS's own examples put
a ``codingScheme`` slot after ``rim:Name`` (reference ``mssante.md`` §6.6).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from lxml import etree

from segur_core.errors import MetadataError, XDMError
from segur_core.model import _tuple
from segur_core.safexml import parse_xml
from segur_core.xds import ebrim, ebrimxml
from segur_core.xds.metadata import DocumentEntry, SubmissionSet
from segur_core.xds.ns import NS, UUID

__all__ = ["MAX_METADATA_BYTES", "Metadata", "read_metadata", "write_metadata"]

#: The largest METADATA.XML read (a few KB per document in practice).
MAX_METADATA_BYTES = 8 * 1024 * 1024
_LCM = NS["lcm"]


@attrs.frozen
class Metadata:
    """What a subset's METADATA.XML says: the submission set and each DocumentEntry
    with the ``URI`` of its file in the subset."""

    submission: SubmissionSet
    entries: tuple[tuple[DocumentEntry, str], ...] = attrs.field(converter=_tuple)


def write_metadata(
    submission: SubmissionSet, entries: Sequence[tuple[DocumentEntry, str]]
) -> bytes:
    """METADATA.XML for ``submission`` and its ``(entry, uri)`` documents: the ebRIM
    objects of :mod:`segur_core.xds.ebrim`, each DocumentEntry with its ``URI`` slot
    among its other slots (the RIM schema wants every Slot before Name), written as text
    (:mod:`segur_core.xds.ebrimxml`: the bytes lxml would give, faster)."""
    return ebrimxml.submit_objects_request(submission, entries)


def _submission_package(objects: etree._Element) -> etree._Element:
    """The RegistryPackage classified as the SubmissionSet (by a classification inside
    it or beside it), else the only RegistryPackage."""
    packages = objects.findall(ebrim.rim("RegistryPackage"))
    classified = {
        c.get("classifiedObject")
        for c in objects.iter(ebrim.rim("Classification"))
        if c.get("classificationNode") == UUID.SUBMISSION_SET
    }
    chosen = [p for p in packages if p.get("id") in classified] or packages
    if len(chosen) != 1:
        raise XDMError(f"METADATA.XML must hold one submission set (has {len(chosen)})")
    return chosen[0]


def read_metadata(data: bytes) -> Metadata:
    """Read a received METADATA.XML with the hardened parser.

    Raises ``UnsafeXMLError`` for unsafe or malformed XML and ``XDMError`` when it is
    not a SubmitObjectsRequest with a submission set and documents that each name their
    file (``URI``).
    """
    root = parse_xml(data, max_bytes=MAX_METADATA_BYTES)
    if root.tag != f"{{{_LCM}}}SubmitObjectsRequest":
        raise XDMError("METADATA.XML is not an ebRS lcm:SubmitObjectsRequest")
    objects = root.find(ebrim.rim("RegistryObjectList"))
    if objects is None:
        raise XDMError("METADATA.XML has no rim:RegistryObjectList")
    submission = ebrim.read_submission_set(_submission_package(objects))
    entries = []
    for eo in objects.findall(ebrim.rim("ExtrinsicObject")):
        try:
            entry = ebrim.read_document_entry(eo)
        except MetadataError as exc:
            raise XDMError(f"METADATA.XML: {exc.message}") from None
        uris = ebrim.slots_of(eo).get("URI", [])
        if len(uris) != 1 or not uris[0].strip():
            raise XDMError("METADATA.XML: a DocumentEntry has no single URI slot")
        entries.append((entry, uris[0].strip()))
    if not entries:
        raise XDMError("METADATA.XML lists no document")
    return Metadata(submission, entries)
