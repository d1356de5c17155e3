"""Access to the core's hardened XML parser and schema loader.

``segur_core.safexml`` is THE hardened parser of the project; while it is not available
(an older core), an equivalent locked-down lxml parser is used so that this plugin never
parses untrusted XML with lxml's defaults.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from segur_core.errors import UnsafeXMLError

__all__ = ["MAX_BYTES", "load_schema", "parse_xml"]

MAX_BYTES = 64 * 1024 * 1024  # a CDA with a large PDF attachment stays well below

try:  # pragma: no cover - depends on the core version
    from segur_core import safexml as _core
except ImportError:  # pragma: no cover
    _core = None


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML; raise :class:`UnsafeXMLError` on anything suspicious."""
    if _core is not None and hasattr(_core, "parse_xml"):
        return _core.parse_xml(data, max_bytes=MAX_BYTES)
    if not isinstance(data, bytes | bytearray):
        raise UnsafeXMLError("XML input must be bytes")
    if len(data) > MAX_BYTES:
        raise UnsafeXMLError("XML document too large")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnsafeXMLError("XML with a DOCTYPE or entities is refused")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,
        remove_comments=False,
    )
    try:
        root = etree.fromstring(bytes(data), parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXMLError(f"malformed XML: {exc.msg}") from None
    if root is None:
        raise UnsafeXMLError("empty XML document")
    return root


def load_schema(path: Path) -> etree.XMLSchema:
    """Load a local XSD (no network), through the core's loader when it has one."""
    if _core is not None and hasattr(_core, "xml_schema"):
        return _core.xml_schema(path)
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    doc = etree.parse(str(path), parser)
    return etree.XMLSchema(doc)
