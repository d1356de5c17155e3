"""The one entry point for XML that enters the DMP plugin: the core's hardened parser
(:func:`segur_core.safexml.parse_xml`: no DTD, no entities, no network, size and depth
limits), with a size limit fitting MTOM messages."""

from __future__ import annotations

from lxml import etree

from segur_core.safexml import parse_xml

__all__ = ["MAX_XML_BYTES", "parse"]

MAX_XML_BYTES = 64 * 1024 * 1024


def parse(data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse untrusted XML bytes; raises ``UnsafeXMLError`` (an ``InputError``)."""
    return parse_xml(data, max_bytes=max_bytes)
