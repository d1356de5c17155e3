"""The one entry point for XML that enters the DMP plugin: the hardened core parser."""

from __future__ import annotations

from lxml import etree

from segur_core.errors import UnsafeXMLError

try:  # the core's hardened parser (segur_core.safexml)
    from segur_core.safexml import parse_xml as _core_parse
except ImportError:  # pragma: no cover - only while the core module is not installed
    _core_parse = None

__all__ = ["MAX_XML_BYTES", "parse", "tostring"]

MAX_XML_BYTES = 64 * 1024 * 1024


def parse(data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse untrusted XML bytes (no DTD, no entities, no network, size/depth limits)."""
    if _core_parse is not None:
        return _core_parse(data, max_bytes=max_bytes)
    if len(data) > max_bytes:
        raise UnsafeXMLError("XML document too large")
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise UnsafeXMLError("XML with a DTD or entities is refused")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXMLError(f"malformed XML: {exc}") from None


def tostring(element: etree._Element) -> bytes:
    """Serialise an element as UTF-8 with an XML declaration."""
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")
