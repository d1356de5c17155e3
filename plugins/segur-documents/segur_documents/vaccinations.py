"""The vaccinations a note de vaccination (VAC-NOTE) or a vaccination record (VAC)
holds, read from its structured body (IHE PCC immunization entries): the vaccine, the
day, the lot, the route and site, the rank and the kind of act, and whether it was given
(``negationInd``). Any such document, built here or received: a part it does not carry
is ``None``.
"""

from __future__ import annotations

import attrs
from lxml import etree

from segur_core.safexml import parse_xml
from segur_documents import codes
from segur_documents.cda import MAX_XML_BYTES

__all__ = ["VACCINATION_TYPES", "VaccinationEntry", "read_vaccinations"]

_NS = {"c": "urn:hl7-org:v3"}
#: IHE PCC Immunizations entry (every VAC-NOTE vaccination carries it).
_IMMUNIZATION = "1.3.6.1.4.1.19376.1.5.3.1.4.12"
_RANK = "30973-2"
#: LOINC types of the documents that record vaccinations: the note de vaccination
#: (VAC-NOTE) and the vaccination record (VAC, "historique des vaccinations").
VACCINATION_TYPES = frozenset({codes.DOCUMENT_TYPES["vaccination"].code, "11369-6"})


@attrs.frozen
class VaccinationEntry:
    """One vaccination of a note: codes as the document gives them (``None``: absent)."""

    administered_on: str | None
    given: bool
    vaccine_code: str | None
    vaccine_system: str | None
    vaccine_label: str | None
    atc: str | None
    atc_label: str | None
    cip13: str | None
    lot: str | None
    route: str | None
    route_label: str | None
    site: str | None
    site_label: str | None
    dose_rank: int | None
    act: str | None


def _first(node: etree._Element, path: str) -> etree._Element | None:
    found = node.xpath(path, namespaces=_NS)
    return found[0] if found else None


def _attr(node: etree._Element | None, name: str) -> str | None:
    value = node.get(name) if node is not None else None
    return value.strip() or None if value else None


def _text(node: etree._Element | None) -> str | None:
    text = "".join(node.itertext()).strip() if node is not None else ""
    return " ".join(text.split()) or None


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _rank(value: str | None) -> int | None:
    """A dose rank (from 1); ``None`` when absent or not a positive number."""
    return int(value) if value and _digits(value) and int(value) >= 1 else None


def _day(value: str | None) -> str | None:
    """``YYYYMMDD…`` → ``YYYY-MM-DD`` (``None`` when the day is not all there)."""
    if value is None or len(value) < 8 or not _digits(value[:8]):
        return None
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}"


def _entry(sbadm: etree._Element) -> VaccinationEntry:
    material = _first(sbadm, "c:consumable/c:manufacturedProduct/c:manufacturedMaterial")
    code = _first(material, "c:code") if material is not None else None
    translations = code.xpath("c:translation", namespaces=_NS) if code is not None else []
    atc = next((t for t in translations if t.get("codeSystem") == codes.ATC), None)
    cip = next((t for t in translations if t.get("codeSystem") == codes.CIP), None)
    route = _first(sbadm, "c:routeCode")
    site = _first(sbadm, "c:approachSiteCode")
    act = _attr(_first(sbadm, "c:code"), "code")
    rank = _first(sbadm, f"c:entryRelationship/c:observation[c:code/@code='{_RANK}']/c:value")
    rank_value = _attr(rank, "value")
    time = _first(sbadm, "c:effectiveTime")
    day = _attr(time, "value") or _attr(_first(sbadm, "c:effectiveTime/c:low"), "value")
    return VaccinationEntry(
        administered_on=_day(day),
        given=(sbadm.get("negationInd") or "false").strip().lower() != "true",
        vaccine_code=_attr(code, "code"),
        vaccine_system=_attr(code, "codeSystem"),
        vaccine_label=_attr(code, "displayName"),
        atc=_attr(atc, "code"),
        atc_label=_attr(atc, "displayName"),
        cip13=_attr(cip, "code"),
        lot=_text(_first(material, "c:lotNumberText")) if material is not None else None,
        route=_attr(route, "code"),
        route_label=_attr(route, "displayName"),
        site=_attr(site, "code"),
        site_label=_attr(site, "displayName"),
        dose_rank=_rank(rank_value),
        act=act if act in codes.ACT_CODES else None,
    )


def read_vaccinations(content: bytes) -> list[VaccinationEntry]:
    """The vaccinations of a VAC-NOTE or VAC document, in document order. Raises
    :class:`~segur_core.errors.InputError` for bytes that are not well-formed XML."""
    root = parse_xml(content, max_bytes=MAX_XML_BYTES)
    found = root.xpath(
        f".//c:substanceAdministration[c:templateId/@root='{_IMMUNIZATION}']", namespaces=_NS
    )
    return [_entry(sbadm) for sbadm in found]
