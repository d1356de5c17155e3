"""Registry responses and their ``RegistryErrorList`` (ebRS 3.0), and the ebRIM encoding
of XDS metadata, which lives in :mod:`segur_core.xds.ebrim` (an XDM archive carries the
same) and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from segur_core.xds.ebrim import (
    association,
    document_entry_element,
    read_document_entry,
    read_submission_set,
    rim,
    slot,
    slots_of,
    submission_set_classification,
    submission_set_element,
)
from segur_dmp.errors import MTOMError, RegistryError, RegistryErrorItem
from segur_dmp.ns import NS, UUID

__all__ = [
    "association",
    "document_entry_element",
    "fill_status",
    "read_document_entry",
    "read_registry_response",
    "read_submission_set",
    "registry_response",
    "rim",
    "slot",
    "slots_of",
    "submission_set_classification",
    "submission_set_element",
]


def registry_response(
    errors: Sequence[RegistryErrorItem] = (), *, tag: str = "rs:RegistryResponse"
) -> etree._Element:
    """A ``rs:RegistryResponse`` (or another tag) with status and error list."""
    prefix, local = tag.split(":")
    resp = etree.Element(f"{{{NS[prefix]}}}{local}", nsmap={prefix: NS[prefix], "rs": NS["rs"]})
    fill_status(resp, errors)
    return resp


def fill_status(resp: etree._Element, errors: Sequence[RegistryErrorItem]) -> None:
    severe = any(e.severity == "error" for e in errors)
    resp.set("status", UUID.FAILURE if severe else UUID.SUCCESS)
    if errors:
        lst = etree.SubElement(resp, f"{{{NS['rs']}}}RegistryErrorList")
        for e in errors:
            etree.SubElement(
                lst,
                f"{{{NS['rs']}}}RegistryError",
                errorCode=e.code,
                codeContext=e.context,
                severity=UUID.ERROR if e.severity == "error" else UUID.WARNING,
                location=e.location,
            )


def read_registry_response(resp: etree._Element) -> tuple[RegistryErrorItem, ...]:
    """Check a response's ``status``; raise :class:`RegistryError` on Failure (or
    PartialSuccess), return the warnings otherwise."""
    status = resp.get("status", "")
    items = tuple(
        RegistryErrorItem(
            code=e.get("errorCode", "XDSRegistryError"),
            context=(e.get("codeContext") or "")[:300],
            severity="error" if e.get("severity", UUID.ERROR) == UUID.ERROR else "warning",
            location=e.get("location", ""),
        )
        for e in resp.iter(f"{{{NS['rs']}}}RegistryError")
    )
    if status == UUID.SUCCESS:
        return items
    if status in (UUID.FAILURE, UUID.PARTIAL):
        raise RegistryError(items or (RegistryErrorItem("XDSRegistryError", "failure"),))
    raise MTOMError(f"registry response has an unknown status {status[:80]!r}")
