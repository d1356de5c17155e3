"""Writing and reading ``IHE_XDM.ZIP`` archives (IHE ITI-32 XDM, CI-SIS "Echange de
documents de santé").

:func:`write_xdm` makes the archive of one or more CDA R2 documents of one patient,
its metadata derived from each CDA header. :func:`read_xdm` reads a received archive
through :mod:`segur_core.safezip` and the hardened XML parser and checks every document
against its entry (file present, ``size``, SHA-1 ``hash``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Sequence

import attrs

from segur_core.cdaheader import INS_OIDS, CdaHeader
from segur_core.errors import DocumentError, XDMError
from segur_core.model import INS, _tuple
from segur_core.safezip import ZipSource, open_zip, safe_member_name
from segur_core.xdm.layout import (
    DOCUMENT_NAME,
    INDEX,
    METADATA,
    README,
    ROOT,
    SUBSET,
    Issuer,
    index_htm,
    readme_txt,
)
from segur_core.xdm.metadata import read_metadata, write_metadata
from segur_core.xds.metadata import (
    Code,
    DocumentEntry,
    SubmissionSet,
    entry_from_cda,
    new_oid,
    xds_time,
)
from segur_core.xds.metadata import parse_cx as _parse_cx

__all__ = [
    "MAX_ARCHIVE_BYTES",
    "PHARMACY",
    "XDMArchive",
    "XDMDocument",
    "read_xdm",
    "write_xdm",
    "xdm_members",
]

#: The most an archive may expand to (Mon Espace Santé caps a message at 25 MB).
MAX_ARCHIVE_BYTES = 128 * 1024 * 1024
#: At most this many members: an XDM archive holds a handful.
MAX_MEMBERS = 1_000
#: contentTypeCode of the submissions we write: the issuer's activity sector (TRE_R02).
PHARMACY = Code("SA33", "1.2.250.1.71.4.2.4", "Pharmacie d'officine")
_METADATA_PATH = re.compile(rf"^{ROOT}/([^/]+)/{METADATA}$", re.IGNORECASE)


@attrs.frozen
class XDMDocument:
    """One document of an archive: its path in the archive, its bytes and its entry."""

    path: str
    content: bytes = attrs.field(repr=lambda v: f"<{len(v)} bytes>")
    entry: DocumentEntry = attrs.field(repr=False)

    @property
    def type_code(self) -> str:
        """The document type (LOINC ``typeCode``, e.g. ``87273-9``)."""
        return self.entry.type_code.code

    @property
    def ins(self) -> INS | None:
        """The patient's INS when the entry's ``patientId`` is one, else ``None``."""
        return _ins(self.entry.patient_id)


@attrs.frozen
class XDMArchive:
    """A read archive: its submission set, documents, README.TXT text and the
    deviations tolerated while reading (the archive was still read)."""

    submission: SubmissionSet = attrs.field(repr=False)
    documents: tuple[XDMDocument, ...] = attrs.field(converter=_tuple)
    readme: str = attrs.field(default="", repr=False)
    deviations: tuple[str, ...] = attrs.field(default=(), converter=_tuple)

    @property
    def ins(self) -> INS | None:
        """The patient's INS from the submission set's ``patientId`` (ECO.2.1.2)."""
        return _ins(self.submission.patient_id)


def _ins(cx_value: str) -> INS | None:
    try:
        matricule, oid = _parse_cx(cx_value)
    except DocumentError:
        return None
    return INS(matricule, oid) if oid in INS_OIDS else None


# -- writing -----------------------------------------------------------------------------


def xdm_members(
    documents: Sequence[bytes],
    *,
    issuer: Issuer,
    source_id: str,
    content_type: Code = PHARMACY,
    now: dt.datetime | None = None,
    headers: Sequence[CdaHeader | None] = (),
    entries: Sequence[DocumentEntry | None] = (),
) -> list[tuple[str, bytes]]:
    """The members (``(path, bytes)``, in archive order) of the XDM archive of CDA R2
    ``documents``, all about one patient: for a caller that adds its own members (a
    portability archive adds PDF renderings and structured data).

    Each DocumentEntry is derived from its CDA header (raises ``DocumentError`` listing
    what a header lacks); ``headers``, when given, are those the caller has already read
    (``None`` for a document to parse here); ``entries``, when given, those the caller
    already has (``entry_from_cda(cda, patient_id="")`` of the very same bytes, with an
    ``entryUUID`` of their own; ``None`` for a document to derive here). ``source_id``
    is the issuing software's OID (``XDSSubmissionSet.sourceId``).
    """
    if not documents:
        raise XDMError("an XDM archive needs at least one document")
    if headers and len(headers) != len(documents):
        raise ValueError("one header (or None) per document")
    if entries and len(entries) != len(documents):
        raise ValueError("one entry (or None) per document")
    named = []
    for number, cda in enumerate(documents, start=1):
        entry = entries[number - 1] if entries else None
        if entry is None:
            header = headers[number - 1] if headers else None
            entry = entry_from_cda(cda, patient_id="", header=header)
        named.append((entry, DOCUMENT_NAME.format(number), cda))
    patients = {entry.patient_id for entry, _, _ in named}
    if len(patients) != 1:
        raise XDMError("the documents of one XDM archive must be about one patient")
    first = named[0][0]
    submission = SubmissionSet(
        unique_id=new_oid(),
        source_id=source_id,
        patient_id=first.patient_id,
        submission_time=xds_time(now or dt.datetime.now(dt.UTC)),
        content_type=content_type,
        authors=first.authors,
        title=first.title or None,
    )
    metadata = write_metadata(submission, [(entry, name) for entry, name, _ in named])
    return [
        (README, readme_txt(issuer, [name for _, name, _ in named])),
        (INDEX, index_htm(issuer, [(n, e.title) for e, n, _ in named])),
        (f"{ROOT}/{SUBSET}/{METADATA}", metadata),
        *((f"{ROOT}/{SUBSET}/{name}", cda) for _, name, cda in named),
    ]


def write_xdm(
    documents: Sequence[bytes],
    *,
    issuer: Issuer,
    source_id: str,
    content_type: Code = PHARMACY,
    now: dt.datetime | None = None,
) -> bytes:
    """The ``IHE_XDM.ZIP`` of CDA R2 ``documents``, all about one patient
    (:func:`xdm_members` written as one ZIP archive)."""
    members = xdm_members(
        documents, issuer=issuer, source_id=source_id, content_type=content_type, now=now
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


# -- reading -----------------------------------------------------------------------------


def _text(data: bytes) -> str:
    """README.TXT leniently: ASCII per IHE, UTF-8 in the ANS examples, else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_xdm(source: ZipSource, *, max_bytes: int = MAX_ARCHIVE_BYTES) -> XDMArchive:
    """Read and check a received ``IHE_XDM.ZIP`` (a path, bytes or a binary file).

    Raises ``UnsafeZipError`` for a hostile or corrupt archive (traversal, bomb...),
    ``UnsafeXMLError`` for hostile or malformed metadata, and ``XDMError`` when the
    archive is not a valid XDM one (no METADATA.XML, a document missing or altered).
    """
    with open_zip(source, max_entries=MAX_MEMBERS, max_total_uncompressed=max_bytes) as zf:
        names = {name.upper(): name for name in zf.names()}
        subsets = sorted(
            (m.group(1), name) for name in zf.names() if (m := _METADATA_PATH.match(name))
        )
        if not subsets:
            raise XDMError(f"not an XDM archive: no {ROOT}/<subset>/{METADATA}")
        deviations: list[str] = []
        readme = names.get(README)
        if readme is None:
            deviations.append(f"no {README} at the root")
        if names.get(INDEX) is None:
            deviations.append(f"no {INDEX} at the root")
        documents, submission = [], None
        for subset, metadata_name in subsets:
            metadata = read_metadata(zf.read(metadata_name))
            submission = submission or metadata.submission
            for entry, uri in metadata.entries:
                path = safe_member_name(f"{ROOT}/{subset}/{uri}")
                member = names.get(path.upper())
                if member is None:
                    raise XDMError(f"METADATA.XML names {uri!r}, absent from the archive")
                content = zf.read(member)
                _check(entry, uri, content, deviations)
                documents.append(XDMDocument(member, content, entry))
        assert submission is not None
        return XDMArchive(
            submission,
            documents,
            readme=_text(zf.read(readme)) if readme else "",
            deviations=deviations,
        )


def _check(entry: DocumentEntry, uri: str, content: bytes, deviations: list[str]) -> None:
    """The document's size and SHA-1 against its entry; both are optional in XDM."""
    if entry.size and entry.size != len(content):
        raise XDMError(f"{uri}: size {len(content)} differs from the metadata's {entry.size}")
    if entry.hash:
        if entry.hash.strip().lower() != hashlib.sha1(content).hexdigest():
            raise XDMError(f"{uri}: its SHA-1 differs from the metadata's hash (altered?)")
    else:
        deviations.append(f"{uri}: no hash in the metadata")
