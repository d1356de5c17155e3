"""The PDF rendering a CDA R2 document carries: the ``nonXMLBody`` of a non-structured
(N1) document is a PDF; a structured body has none (no renderer is claimed here)."""

from __future__ import annotations

import base64
import binascii

from lxml import etree

from segur_core.cdaheader import MAX_CDA_BYTES
from segur_core.errors import UnsafeXMLError
from segur_core.safexml import parse_xml

__all__ = ["embedded_pdf", "pdf_of"]

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
