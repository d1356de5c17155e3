"""``MANIFEST.XML``: what an export is and everything it holds (PDLGC: ``exportId``,
``exportType``, ``exportStatus``, ``author/lgcSoftwareVendor``, ``statistics`` and
``Archives/Archive{archiveid, type, patientId, size, hash}`` with SHA-256), plus the
``Documentation`` files with their size and hash, so that nothing in the archive but
``SIGN.XML`` escapes the manifest. Written streamed, read with the hardened parser.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import IO

import attrs
from lxml import etree

from segur_core.safexml import iter_xml
from segur_portability.errors import ArchiveError

__all__ = ["NS", "Entry", "Manifest", "read_manifest", "write_manifest"]

NS = "urn:segur:portability:manifest:1"
#: The largest MANIFEST.XML read (about 250 bytes per patient).
MAX_MANIFEST_BYTES = 512 * 1024 * 1024
EXPORT_TYPES = ("UNITAIRE", "CIBLE", "MASSIF")
EXPORT_STATUSES = ("COMPLETE", "PARTIAL", "SAMPLE")


@attrs.frozen
class Entry:
    """One file of the archive: its name, kind (``PATIENT``, ``TRANSVERSE``,
    ``DOCUMENTATION``), the patient's local id for a patient archive, size and SHA-256."""

    name: str
    type: str
    size: int
    sha256: str
    patient_id: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class Manifest:
    """What MANIFEST.XML says."""

    export_id: str
    export_type: str
    export_status: str
    created_at: str
    software: str
    software_version: str
    vendor: str
    structure_id: str
    structure_name: str
    statistics: dict[str, int]
    entries: tuple[Entry, ...] = attrs.field(converter=tuple, repr=lambda v: f"<{len(v)}>")
    since: str | None = None


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def write_manifest(out: IO[bytes], manifest: Manifest, entries: Iterable[Entry]) -> None:
    """Write MANIFEST.XML to ``out``, streaming ``entries`` (``manifest.entries`` is
    ignored: a massive export's entries are not held twice)."""
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(_q("Manifest"), nsmap={None: NS}):
            for tag, text in (
                ("exportId", manifest.export_id),
                ("exportType", manifest.export_type),
                ("exportStatus", manifest.export_status),
                ("exportDate", manifest.created_at),
            ):
                el = etree.Element(_q(tag))
                el.text = text
                xf.write(el)
            if manifest.since:
                el = etree.Element(_q("since"))
                el.text = manifest.since
                xf.write(el)
            author = etree.Element(_q("author"))
            for tag, text in (
                ("lgcSoftwareVendor", manifest.vendor),
                ("lgcSoftwareName", manifest.software),
                ("lgcSoftwareVersion", manifest.software_version),
                ("structureId", manifest.structure_id),
                ("structureName", manifest.structure_name),
            ):
                etree.SubElement(author, _q(tag)).text = text
            xf.write(author)
            stats = etree.Element(_q("statistics"))
            for key, value in manifest.statistics.items():
                etree.SubElement(stats, _q(key)).text = str(value)
            xf.write(stats)
            with xf.element(_q("Archives")):
                for entry in entries:
                    attributes = {
                        "archiveid": entry.name,
                        "type": entry.type,
                        "size": str(entry.size),
                        "hash": entry.sha256,
                    }
                    if entry.patient_id is not None:
                        attributes["patientId"] = entry.patient_id
                    xf.write(etree.Element(_q("Archive"), attributes))


def read_manifest(source: bytes | Iterable[bytes]) -> Manifest:
    """Read MANIFEST.XML, whole (bytes) or a piece at a time (an iterable of bytes, as
    :meth:`~segur_core.safezip.SafeZip.iter_chunks` gives it: a massive export's manifest
    lists every patient's archive, each ``Archive`` element dropped once read); raises
    ``UnsafeXMLError`` for hostile XML and :class:`ArchiveError` when it is not a
    manifest."""
    chunks = (source,) if isinstance(source, bytes | bytearray) else source
    root: etree._Element | None = None
    archives = _q("Archives")
    entries = []
    previous: etree._Element | None = None
    for event, el in iter_xml(chunks, max_bytes=MAX_MANIFEST_BYTES):
        if root is None:
            root = el
            if root.tag != _q("Manifest"):
                raise ArchiveError("MANIFEST.XML is not a portability manifest")
        if event != "end" or el.tag != _q("Archive"):
            continue
        parent = el.getparent()
        if parent is None or parent.tag != archives or parent.getparent() is not root:
            continue
        name, kind, size, digest = (el.get(k) for k in ("archiveid", "type", "size", "hash"))
        if not name or not kind or not digest or not (size or "").isdigit():
            raise ArchiveError("MANIFEST.XML has an Archive without archiveid, type, size or hash")
        entries.append(Entry(name, sys.intern(kind), int(size or 0), digest, el.get("patientId")))
        if previous is not None and previous.getparent() is parent:
            parent.remove(previous)  # not the one just ended: its tail may still come
        previous = el
    assert root is not None  # iter_xml refuses a document without a root element
    found = root

    def text(path: str, required: bool = True) -> str:
        value = found.findtext(path, namespaces={"m": NS})
        if value is None and required:
            raise ArchiveError(f"MANIFEST.XML lacks {path.replace('m:', '')}")
        return (value or "").strip()

    statistics = {}
    for el in root.iterfind("m:statistics/*", namespaces={"m": NS}):
        value = (el.text or "").strip()
        if not value.isdigit():
            raise ArchiveError("MANIFEST.XML has a statistic that is not a number")
        statistics[etree.QName(el).localname] = int(value)
    export_type = text("m:exportType")
    if export_type not in EXPORT_TYPES:
        raise ArchiveError(f"MANIFEST.XML exportType is not one of {', '.join(EXPORT_TYPES)}")
    return Manifest(
        export_id=text("m:exportId"),
        export_type=export_type,
        export_status=text("m:exportStatus"),
        created_at=text("m:exportDate"),
        software=text("m:author/m:lgcSoftwareName", False),
        software_version=text("m:author/m:lgcSoftwareVersion", False),
        vendor=text("m:author/m:lgcSoftwareVendor"),
        structure_id=text("m:author/m:structureId", False),
        structure_name=text("m:author/m:structureName", False),
        statistics=statistics,
        entries=entries,
        since=text("m:since", False) or None,
    )
