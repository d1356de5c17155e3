"""The one entry point for parsing XML that comes from outside (INSi answers, requests
received by the sandbox): :func:`segur_core.safexml.parse_xml`."""

from __future__ import annotations

from lxml import etree

from segur_core.errors import UnsafeXMLError

__all__ = ["parse_xml"]

try:  # the core's hardened parser
    from segur_core.safexml import parse_xml as _core_parse_xml
except ImportError:  # pragma: no cover - only while the core's parser is not there
    _core_parse_xml = None

_MAX_BYTES = 2 * 1024 * 1024
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML; raises :class:`UnsafeXMLError` for anything refused."""
    if _core_parse_xml is not None:
        return _core_parse_xml(data)
    if len(data) > _MAX_BYTES:  # pragma: no cover
        raise UnsafeXMLError("XML document too large")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # pragma: no cover
        raise UnsafeXMLError("XML document with a DTD refused")
    try:  # pragma: no cover
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:  # pragma: no cover
        raise UnsafeXMLError(f"malformed XML: {exc.msg}") from exc
