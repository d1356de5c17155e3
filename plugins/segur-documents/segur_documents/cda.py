"""Low-level CDA R2 writing helpers (lxml): namespace, elements, time stamps, ids."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from lxml import etree

from segur_core.xds.metadata import new_oid

__all__ = [
    "MAX_XML_BYTES",
    "NS",
    "PARIS",
    "XSI",
    "cda_date",
    "cda_time",
    "el",
    "new_oid",
    "new_uuid",
    "qn",
    "to_bytes",
]

#: Size limit for one CDA document parsed by the plugin, passed as ``max_bytes`` to
#: :func:`segur_core.safexml.parse_xml`: a CDA with a large PDF attachment stays well below.
MAX_XML_BYTES = 64 * 1024 * 1024

NS = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {None: NS, "xsi": XSI}

try:
    PARIS: dt.tzinfo = ZoneInfo("Europe/Paris")
except Exception:  # pragma: no cover - no tz database: fall back to UTC
    PARIS = dt.UTC


def qn(tag: str) -> str:
    """The qualified name of a CDA element."""
    return f"{{{NS}}}{tag}"


def el(parent: etree._Element | None, tag: str, text: str | None = None, **attrs: str | None):
    """Add (or create, with no parent) a CDA element with the non-``None`` attributes.

    Attribute names ending in ``_`` lose it (``type_`` is not needed: use ``xsi_type``).
    """
    attributes = {}
    for name, value in attrs.items():
        if value is None:
            continue
        if name == "xsi_type":
            attributes[f"{{{XSI}}}type"] = value
        else:
            attributes[name.rstrip("_")] = value
    if parent is None:
        node = etree.Element(qn(tag), attributes, nsmap=NSMAP)
    else:
        node = etree.SubElement(parent, qn(tag), attributes)
    if text is not None:
        node.text = text
    return node


def cda_time(moment: dt.datetime) -> str:
    """A CDA TS with seconds and offset, in French local time (``20240105143000+0100``)."""
    local = moment.astimezone(PARIS)
    return local.strftime("%Y%m%d%H%M%S%z")


def cda_date(day: dt.date) -> str:
    """A CDA TS of a day (``AAAAMMJJ``)."""
    return day.strftime("%Y%m%d")


def new_uuid() -> str:
    return str(uuid.uuid4()).upper()


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
