"""One patient's archive ``PATnnnnn.ZIP``: the IHE XDM archive of every document
produced or received (the core's :func:`segur_core.xdm.xdm_members`, as MSSanté sends
them), their PDF renderings in ``PDF/``, the structured data of every plugin's sections
in ``DATA/`` and an ``INDEX.HTM`` to browse it all.

A document kept as is but whose header lacks what XDS metadata need (or that is not a
CDA) goes to ``OTHER/``: nothing is left out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from segur_core.cdaheader import MAX_CDA_BYTES, CdaHeader, header_of
from segur_core.errors import InputError
from segur_core.model import HealthDocument
from segur_core.plugin import ExportSection
from segur_core.safexml import parse_xml
from segur_core.xdm import Issuer, xdm_members
from segur_core.xdm.layout import INDEX
from segur_core.xds import DocumentEntry, entry_from_cda
from segur_portability import schemas
from segur_portability.browse import index_page
from segur_portability.entries import is_cda
from segur_portability.errors import ExportError
from segur_portability.layout import DATA, OTHER, PDF, data_name
from segur_portability.renderings import pdf_of
from segur_portability.sections import dumps

__all__ = [
    "PatientArchive",
    "SchemaCheck",
    "SectionFiles",
    "build_archive",
    "document_records",
    "materialize",
]

#: Compression of the members of a patient's archive (zlib level: speed over size).
COMPRESS_LEVEL = 6


@attrs.frozen
class PatientArchive:
    """A built archive: its bytes and what it holds."""

    data: bytes = attrs.field(repr=lambda v: f"<{len(v)} bytes>")
    documents: int
    sections: tuple[str, ...]


class SchemaCheck:
    """Checks section files against their JSON Schema, each schema compiled once.

    jsonschema-rs (compiled) says whether a file is valid; a file it refuses is checked
    again by jsonschema, whose verdict and messages are the ones reported. Where the two
    differ, jsonschema-rs is the stricter (``pattern`` with ECMA-262's ASCII ``\\d`` and
    end-only ``$``), so a file is valid exactly when jsonschema finds it so, ten times
    faster.
    """

    def __init__(self) -> None:
        self._validators: dict[int, tuple[dict[str, Any], Any, Any]] = {}

    def _held(self, schema: dict[str, Any]) -> tuple[dict[str, Any], Any, Any]:
        held = self._validators.get(id(schema))
        if held is None or held[0] is not schema:
            import jsonschema_rs
            from jsonschema import Draft202012Validator

            held = (
                schema,
                jsonschema_rs.Draft202012Validator(schema),
                Draft202012Validator(schema),
            )
            self._validators[id(schema)] = held
        return held

    def errors(self, schema: dict[str, Any], data: bytes) -> list[str]:
        """What is wrong with ``data`` (JSON bytes) against ``schema``; empty when valid."""
        _, fast, full = self._held(schema)
        try:
            value = json.loads(data)
        except ValueError as exc:
            return [f"not JSON: {exc}"]
        try:
            if fast.is_valid(value):
                return []
        except (ValueError, OverflowError):  # a number it cannot hold: jsonschema decides
            pass
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
            for e in full.iter_errors(value)
        ]


@attrs.frozen
class SectionFiles:
    """A section with its files produced and checked: what a worker process builds an
    archive from (an :class:`ExportSection`'s ``files`` runs in the runtime's process)."""

    name: str
    description: str
    items: tuple[tuple[str, bytes], ...] = attrs.field(repr=False)

    def files(self) -> Iterable[tuple[str, bytes]]:
        return iter(self.items)


def materialize(section: ExportSection, check: SchemaCheck) -> SectionFiles:
    """Produce a section's files and check each ``.JSN`` against the section's schema.

    Raises :class:`ExportError` naming the section and the first problem.
    """
    items = tuple(section.files())
    for name, data in items:
        if section.schema is not None and name.upper().endswith((".JSN", ".JSON")):
            problems = check.errors(section.schema, data)
            if problems:
                raise ExportError(
                    f"section {section.name!r}: {DATA}/{name} does not follow its "
                    f"schema ({problems[0]})",
                    hint="the plugin that contributes this section must fix its data",
                )
    return SectionFiles(section.name, section.description, items)


def _ext(document: HealthDocument) -> str:
    return {"text/xml": "XML", "application/pdf": "PDF"}.get(document.media_type, "BIN")


def _split(
    documents: Sequence[HealthDocument],
) -> tuple[list[HealthDocument], list[HealthDocument]]:
    """``(in XDM, in OTHER/)``: a CDA whose header gives its XDS metadata, about the same
    INS as the first such one, goes in XDM (an INS that changed leaves older documents
    about the former one)."""
    xdm, other = [], []
    patient = None
    for document in documents:
        if not is_cda(document):
            other.append(document)
            continue
        try:
            entry = entry_from_cda(document.content, patient_id="")
        except InputError:
            other.append(document)
            continue
        patient = patient or entry.patient_id
        (xdm if entry.patient_id == patient else other).append(document)
    return xdm, other


def _read(document: HealthDocument) -> tuple[CdaHeader | None, bytes | None]:
    """The header and PDF of a CDA that carries one, from a single parse (``(None,
    None)`` for a structured body, whose header ``xdm_members`` reads, or bytes that
    do not parse: they are refused there as before)."""
    if b"nonXMLBody" not in document.content:
        return None, None
    try:
        root = parse_xml(document.content, max_bytes=MAX_CDA_BYTES)
    except InputError:
        return None, None
    try:
        return header_of(root), pdf_of(root)
    except InputError:
        return None, pdf_of(root)


def _xdm(
    documents: Sequence[HealthDocument],
    issuer: Issuer,
    source_id: str,
    now: dt.datetime | None,
    headers: dict[int, CdaHeader | None],
    entries: dict[int, DocumentEntry | None],
) -> tuple[list[tuple[str, bytes]], list[HealthDocument], list[HealthDocument]]:
    """The XDM members, the documents in them and those left for ``OTHER/``: every CDA
    in XDM when their headers allow it (the usual case, each document's kept entry
    used, else its header read once), else sorted one by one."""
    cda = [d for d in documents if is_cda(d)]
    other = [d for d in documents if not is_cda(d)]
    if cda:
        try:
            members = xdm_members(
                [d.content for d in cda],
                issuer=issuer,
                source_id=source_id,
                now=now,
                headers=[headers.get(id(d)) for d in cda],
                entries=[entries.get(id(d)) for d in cda],
            )
        except InputError:
            cda, more = _split(cda)
            other += more
            members = (
                xdm_members([d.content for d in cda], issuer=issuer, source_id=source_id, now=now)
                if cda
                else []
            )
        return members, cda, other
    return [], [], other


def document_records(
    documents: Sequence[HealthDocument],
    files: Sequence[str],
    pdfs: Sequence[str | None],
    digests: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The DOCS.JSN records: each document's metadata, file and PDF rendering
    (``digests``: the hex SHA-256 of each document when the caller has it already)."""
    records = []
    if digests is None:
        digests = [hashlib.sha256(document.content).hexdigest() for document in documents]
    for document, file, pdf, digest in zip(documents, files, pdfs, digests, strict=True):
        records.append(
            {
                "id": document.id,
                "type_code": document.type_code,
                "title": document.title,
                "media_type": document.media_type,
                "set_id": document.set_id,
                "version": document.version,
                "replaces": document.replaces,
                "status": str(document.status),
                "created_at": document.created_at.isoformat(),
                "author_rpps": document.author_rpps,
                "format_code": document.format_code,
                "confidentiality": document.confidentiality,
                "size": len(document.content),
                "sha256": digest,
                "file": file,
                "pdf": pdf,
            }
        )
    return records


def build_archive(
    documents: Sequence[HealthDocument],
    sections: Iterable[SectionFiles],
    *,
    issuer: Issuer,
    source_id: str,
    title: str,
    now: dt.datetime | None = None,
    renderings: Mapping[str, bytes] | None = None,
    entries: Mapping[str, DocumentEntry] | None = None,
    digests: Sequence[str] | None = None,
) -> PatientArchive:
    """The bytes of one patient's archive (or of the transverse part, without documents),
    from their documents, their sections' files (:func:`materialize`), and by SHA-256
    (hex) of the documents' bytes the renderings of structured documents and the kept
    DocumentEntries of CDA documents (:mod:`segur_portability.entries`; the others are
    derived here). ``digests``: the SHA-256 of each document when the caller has them.
    Pure: it runs in a worker process as well.

    Raises :class:`ExportError` when two sections write the same file.
    """
    members: list[tuple[str, bytes]] = []
    files: dict[str, HealthDocument] = {}
    ordered: list[HealthDocument] = []
    paths: list[str] = []
    pdfs: list[str | None] = []
    hashes: list[str] = []  # of the ordered documents
    if documents:
        if digests is None:
            digests = [hashlib.sha256(d.content).hexdigest() for d in documents]
        digest_of = {id(d): digest for d, digest in zip(documents, digests, strict=True)}
        given = entries or {}
        kept = {id(d): given.get(digest_of[id(d)]) for d in documents}
        read = {id(d): _read(d) for d in documents if is_cda(d)}
        headers = {key: header for key, (header, _) in read.items()}
        xdm_files, xdm, other = _xdm(documents, issuer, source_id, now, headers, kept)
        members += [(name, data) for name, data in xdm_files if name != INDEX]
        for document, (path, _) in zip(xdm, xdm_files[3:], strict=True):
            files[path] = document
        for number, document in enumerate(other, start=1):
            path = f"{OTHER}/DOC{number:04d}.{_ext(document)}"
            members.append((path, document.content))
            files[path] = document
        rank = {id(document): i for i, document in enumerate(documents)}
        for path, document in sorted(files.items(), key=lambda kv: rank[id(kv[1])]):
            ordered.append(document)
            paths.append(path)
            hashes.append(digest_of[id(document)])
            pdf = read[id(document)][1] if id(document) in read else None
            if pdf is None and renderings:
                pdf = renderings.get(hashes[-1])
            if pdf is not None:
                pdf_path = f"{PDF}/{path.rsplit('/', 1)[1].rsplit('.', 1)[0]}.PDF"
                members.append((pdf_path, pdf))
                pdfs.append(pdf_path)
            else:
                pdfs.append(None)
    data_files: list[tuple[str, str, bytes]] = []
    written: set[str] = set()
    records = document_records(ordered, paths, pdfs, hashes)
    if documents:
        data_files.append((data_name("docs"), schemas.DOCUMENTS["description"], dumps(records)))
        written.add(data_name("docs"))
    for section in sections:
        for name, data in section.files():
            if name in written:
                raise ExportError(f"two export sections write {DATA}/{name}")
            written.add(name)
            data_files.append((name, section.description, data))
    members += [(f"{DATA}/{name}", data) for name, _, data in data_files]
    members.append(
        (
            INDEX,
            index_page(
                title=title,
                struct_id=issuer.struct_id,
                struct_name=issuer.struct_name,
                documents=records,
                sections=[(f"{DATA}/{n}", desc, data) for n, desc, data in data_files],
            ),
        )
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(
        buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as archive:
        stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).timetuple()[:6]
        for name, data in members:
            archive.writestr(_info(name, stamp), data)
    return PatientArchive(
        buffer.getvalue(),
        documents=len(ordered),
        sections=tuple(name for name, _, _ in data_files),
    )


def _info(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info
