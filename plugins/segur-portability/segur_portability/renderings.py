"""The PDF renderings of an export's documents: the ``nonXMLBody`` of a non-structured
(N1) document is its own PDF; a structured document's is the one segur-documents kept
when it came into being (:mod:`segur_documents.renderings`), rendered during the export
when it has none (a rendering that failed then, or a document older than the renderings).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from lxml import etree

from segur_core.cdaheader import MAX_CDA_BYTES
from segur_core.errors import UnsafeXMLError
from segur_core.model import HealthDocument
from segur_core.safexml import parse_xml

__all__ = ["ExportRenderings", "embedded_pdf", "pdf_of"]

_HL7 = "urn:hl7-org:v3"
_TEXT = f"{{{_HL7}}}component/{{{_HL7}}}nonXMLBody/{{{_HL7}}}text"


def embedded_pdf(cda: bytes) -> bytes | None:
    """The PDF of a non-structured CDA document, or ``None`` (structured body, not a
    CDA, not base64)."""
    if b"nonXMLBody" not in cda:
        return None
    try:
        root = parse_xml(cda, max_bytes=MAX_CDA_BYTES)
    except UnsafeXMLError:
        return None
    return pdf_of(root)


def pdf_of(root: etree._Element) -> bytes | None:
    """:func:`embedded_pdf` of a document already parsed (its root element)."""
    text = root.find(_TEXT)
    if text is None or text.get("mediaType") != "application/pdf":
        return None
    try:
        data = base64.b64decode("".join((text.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if data.startswith(b"%PDF") else None


class ExportRenderings:
    """The renderings of structured documents for one export, by the SHA-256 of the
    documents' bytes: kept ones read, missing ones rendered and kept now (once a
    renderer is found missing, not tried again during this export). Counts what it did."""

    def __init__(self, runtime: Any) -> None:
        from segur_documents.renderings import RenderingStore

        self.runtime = runtime
        self.store = RenderingStore.of(runtime)
        self.kept = self.rendered = self.failed = self.missing = 0
        self._usable: bool | None = None

    def of(self, documents: Sequence[HealthDocument], digests: Sequence[str]) -> dict[str, bytes]:
        """The renderings of ``documents`` (of SHA-256 ``digests``, hex) that need one, by
        digest."""
        from segur_documents.display import is_structured

        found: dict[str, bytes] = {}
        for document, key in zip(documents, digests, strict=True):
            if document.media_type != "text/xml" or not is_structured(document.content):
                continue
            pdf = self.store.get(document.content, key)
            if pdf is not None:
                self.kept += 1
            elif not self._can_render():
                self.missing += 1
            elif (pdf := self._render(document)) is None:
                self.failed += 1
            else:
                self.rendered += 1
            if pdf is not None:
                found[key] = pdf
        return found

    def counts(self) -> dict[str, int]:
        """What this export did, for its journal record."""
        return {
            "renderings_kept": self.kept,
            "renderings_made": self.rendered,
            "renderings_failed": self.failed,
            "renderings_missing": self.missing,
        }

    def _render(self, document: HealthDocument) -> bytes | None:
        from segur_documents.renderings import keep_rendering

        return keep_rendering(self.runtime, document, self.store)

    def _can_render(self) -> bool:
        if self._usable is None:
            from segur_documents.display import RenderingUnavailable
            from segur_documents.renderings import renderer_of

            try:
                renderer_of(self.runtime)
                self._usable = True
            except RenderingUnavailable:
                self._usable = False
        return self._usable
