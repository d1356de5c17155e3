"""Reading an eP-MED-DM 2024.01 CDA (the prescription document) into an
:class:`~segur_eprescription.models.EPrescription`.

The same document reaches the pharmacy from the e-prescription service or by MSSanté.
What is read, by the kit's examples (``ExemplesCDA/eP-MED-DM_2024.01_*.xml``):

- the unique id: ``documentationOf/serviceEvent/id[@root=1.2.250.1.215.500.1.1]``;
- the prescriber: the first ``author`` (RPPS under ``1.2.250.1.71.4.2.1``, an ``8``
  prefix before the 11 digits as the CI-SIS writes it, kept as written);
- the patient: ``recordTarget`` (INS, names, sex, birth date), through the core's
  CDA header reader;
- the lines: the entries of the "Prescriptions" section (LOINC 57828-6,
  ``substanceAdministration``) and of the medical devices section (46264-8, ``supply``).
  The product is the ``manufacturedMaterial/code`` (CIS, CIP, UCD with translations) or,
  without a code, the substance (``pharm:asSpecializedKind`` / ``pharm:ingredient``);
  the dosage is the narrative cell the kit marks ``ID="<line>-posologie"``; the quantity
  the ``supply[@moodCode=RQO]/quantity``; the duration the ``effectiveTime`` interval;
  the renewals ``repeatNumber``; substitution the act ``1.2.250.1.213.1.1.3.87``
  (``N``: none allowed).

Anything malformed is a :class:`~segur_eprescription.errors.PrescriptionFormatError`
(hostile XML included: the core's hardened parser reads it).
"""

from __future__ import annotations

import datetime as dt
import math
import re

from lxml import etree

from segur_core.cdaheader import header_of
from segur_core.errors import InputError
from segur_core.safexml import parse_xml
from segur_eprescription.errors import PrescriptionFormatError
from segur_eprescription.ids import PRESCRIPTION_ID_OID, check_prescription_id
from segur_eprescription.models import (
    CIP13_OID,
    CIS_OID,
    UCD_OID,
    EPrescription,
    PrescribedPatient,
    Prescriber,
    PrescriptionLine,
    Product,
    ProductKind,
    Quantity,
)

__all__ = ["EP_MED_DM_TEMPLATE", "MAX_PRESCRIPTION_BYTES", "read_prescription"]

EP_MED_DM_TEMPLATE = "1.2.250.1.213.1.1.1.39"
PRESCRIPTION_LOINC = "57833-6"
MAX_PRESCRIPTION_BYTES = 16 * 1024 * 1024
MAX_LINES = 200
RPPS_OID = "1.2.250.1.71.4.2.1"
SUBSTITUTION_TEMPLATE = "1.2.250.1.213.1.1.3.87"

_NS = {"h": "urn:hl7-org:v3", "p": "urn:ihe:pharm:medication"}
_KINDS = {CIS_OID: ProductKind.CIS, CIP13_OID: ProductKind.CIP13, UCD_OID: ProductKind.UCD}
_TS = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(?:\.\d+)?([+-]\d{4})?")


def _fail(message: str) -> PrescriptionFormatError:
    return PrescriptionFormatError(
        f"not a readable eP-MED-DM prescription: {message}",
        hint="ask the prescriber for the prescription again, or fetch it from the service",
    )


def read_prescription(data: bytes) -> EPrescription:
    """The prescription in an eP-MED-DM CDA document (``data``, its bytes)."""
    try:
        root = parse_xml(data, max_bytes=MAX_PRESCRIPTION_BYTES)
        header = header_of(root)
    except InputError as exc:
        raise _fail(exc.message) from None
    if (header.code.code if header.code else None) != PRESCRIPTION_LOINC:
        raise _fail(f"the document type is not LOINC {PRESCRIPTION_LOINC}")
    ids = root.xpath(
        "h:documentationOf/h:serviceEvent/h:id[@root=$oid]/@extension",
        namespaces=_NS, oid=PRESCRIPTION_ID_OID,
    )  # fmt: skip
    if len(ids) != 1:
        raise _fail(f"{len(ids)} prescription ids (root {PRESCRIPTION_ID_OID}), expected 1")
    try:
        prescription_id = check_prescription_id(ids[0].strip())
    except InputError as exc:
        raise _fail(exc.message) from None
    issued = _timestamp(header.effective_time, "effectiveTime")
    valid_until = None
    high = root.xpath(
        "h:documentationOf/h:serviceEvent[h:id/@root=$oid]/h:effectiveTime/h:high/@value",
        namespaces=_NS, oid=PRESCRIPTION_ID_OID,
    )  # fmt: skip
    if high:
        valid_until = _timestamp(high[0], "serviceEvent/effectiveTime/high")
    if not header.authors:
        raise _fail("no author")
    author = header.authors[0]
    rpps = next((i.extension for i in author.ids if i.root == RPPS_OID and i.extension), None)
    org = author.organization
    prescriber = Prescriber(
        rpps=rpps, family_name=author.family_name, given_name=author.given_name,
        profession=author.code.code if author.code else None,
        structure_id=next((i.extension for i in org.ids if i.extension), None) if org else None,
        structure_name=org.name if org else None,
    )  # fmt: skip
    target = header.patient
    if target is None:
        raise _fail("no patient (recordTarget)")
    patient = PrescribedPatient(
        ins=target.ins, family_name=target.birth_name or target.used_name,
        given_name=target.first_names or target.first_name, sex=target.sex,
        birth_date=target.birth_time,
    )  # fmt: skip
    lines = _lines(root)
    if not lines:
        raise _fail("no prescription line")
    document_id = None
    if header.id is not None and header.id.root:
        document_id = header.id.root + (f"^{header.id.extension}" if header.id.extension else "")
    return EPrescription(
        id=prescription_id, prescriber=prescriber, patient=patient, issued_at=issued,
        lines=lines, valid_until=valid_until, document_id=document_id,
    )  # fmt: skip


def _lines(root: etree._Element) -> list[PrescriptionLine]:
    body = "h:component/h:structuredBody/h:component/h:section"
    medicines = root.xpath(
        f"{body}[h:code/@code='57828-6']/h:entry/h:substanceAdministration", namespaces=_NS
    )
    devices = root.xpath(f"{body}[h:code/@code='46264-8']/h:entry/h:supply", namespaces=_NS)
    if len(medicines) + len(devices) > MAX_LINES:
        raise _fail(f"more than {MAX_LINES} lines")
    narrative = {
        str(node.get("ID")): _collapse(" ".join(node.itertext()))
        for node in root.xpath("//h:text//*[@ID]", namespaces=_NS)
    }
    lines = []
    for number, node in enumerate(medicines, start=1):
        lines.append(_medicine_line(node, number, narrative))
    for number, node in enumerate(devices, start=len(lines) + 1):
        lines.append(_device_line(node, number, narrative))
    return lines


def _medicine_line(
    node: etree._Element, number: int, narrative: dict[str, str]
) -> PrescriptionLine:
    material = _first(node, "h:consumable/h:manufacturedProduct/h:manufacturedMaterial")
    if material is None:
        raise _fail(f"line {number}: no manufacturedMaterial")
    product = _product(material, number, narrative)
    ref = _reference(node)
    start, end = _interval(node, number)
    quantity = None
    qty = _first(node, "h:entryRelationship/h:supply[@moodCode='RQO']/h:quantity")
    if qty is not None:
        quantity = _quantity(qty, number)
    substitution = node.xpath(
        "h:entryRelationship/h:act[h:templateId/@root=$t]/h:code/@code",
        namespaces=_NS, t=SUBSTITUTION_TEMPLATE,
    )  # fmt: skip
    dosage = narrative.get(f"{ref}-posologie") if ref else None
    if dosage is None:
        dosage = _structured_dosage(node)
    return PrescriptionLine(
        number=number, product=product, line_id=_line_id(node), dosage=dosage or None,
        quantity=quantity, start=start, end=end, renewals=_renewals(node, number),
        substitutable=not (substitution and substitution[0] == "N"),
    )  # fmt: skip


def _device_line(node: etree._Element, number: int, narrative: dict[str, str]) -> PrescriptionLine:
    code = _first(node, "h:participant/h:participantRole/h:playingDevice/h:code")
    ref = _reference(node)
    display = code.get("displayName") if code is not None else None
    label = (narrative.get(ref) if ref else None) or display
    codes = [] if code is None else [code, *code.findall("h:translation", _NS)]
    lpp = [c for c in codes if c.get("codeSystemName") == "LPP"]
    chosen = (lpp or codes or [None])[0]
    product = Product(
        kind=ProductKind.DEVICE, label=_collapse(label or "dispositif médical"),
        code=chosen.get("code") if chosen is not None else None,
        system=chosen.get("codeSystem") if chosen is not None else None,
    )  # fmt: skip
    start, end = _interval(node, number)
    qty = _first(node, "h:quantity")
    return PrescriptionLine(
        number=number, product=product, line_id=_line_id(node),
        quantity=_quantity(qty, number) if qty is not None else None,
        start=start, end=end, renewals=_renewals(node, number), device=True,
    )  # fmt: skip


def _product(material: etree._Element, number: int, narrative: dict[str, str]) -> Product:
    name = _collapse(material.findtext("h:name", namespaces=_NS) or "")
    code = _first(material, "h:code")
    substance_node = _first(material, "p:asSpecializedKind/p:generalizedMedicineClass")
    if substance_node is None:
        substance_node = _first(material, "p:ingredient/p:ingredient")
    substance = substance_code = substance_system = None
    if substance_node is not None:
        substance = _collapse(substance_node.findtext("p:name", namespaces=_NS) or "") or None
        sc = _first(substance_node, "p:code")
        if sc is not None:
            substance_code, substance_system = sc.get("code"), sc.get("codeSystem")
    form = _first(material, "p:formCode")
    strength = None
    num = _first(material, "p:ingredient/p:quantity/h:numerator")
    if num is not None and num.get("value"):
        strength = f"{num.get('value')} {num.get('unit') or ''}".strip()
    ref = _reference_of(code) if code is not None else None
    display = code.get("displayName") if code is not None else None
    label = name or (narrative.get(ref) if ref else None) or display
    common = {
        "substance": substance, "substance_code": substance_code,
        "substance_system": substance_system,
        "form": form.get("displayName") if form is not None else None, "strength": strength,
    }  # fmt: skip
    if code is not None and code.get("code"):
        codes = [code, *code.findall("h:translation", _NS)]
        # the most precise code the pharmacy can dispense: CIP13, then UCD, then CIS
        for oid in (CIP13_OID, UCD_OID, CIS_OID):
            for c in codes:
                if c.get("codeSystem") == oid and c.get("code"):
                    return Product(
                        kind=_KINDS[oid], label=_collapse(label or c.get("displayName") or ""),
                        code=c.get("code").strip(), system=oid, **common,
                    )  # fmt: skip
        return Product(
            kind=ProductKind.OTHER, label=_collapse(label or ""),
            code=code.get("code").strip(), system=code.get("codeSystem"), **common,
        )  # fmt: skip
    if substance is None and not label:
        raise _fail(f"line {number}: neither a product code nor a substance")
    return Product(kind=ProductKind.SUBSTANCE, label=_collapse(label or substance or ""), **common)


def _structured_dosage(node: etree._Element) -> str | None:
    parts = []
    for sub in [node, *node.xpath("h:entryRelationship/h:substanceAdministration", namespaces=_NS)]:
        dose = _first(sub, "h:doseQuantity")
        if dose is None:
            continue
        low = _first(dose, "h:low")
        value = dose.get("value") or (low.get("value") if low is not None else None)
        unit = dose.get("unit") or (low.get("unit") if low is not None else None) or ""
        period = _first(sub, "h:effectiveTime/h:period")
        every = ""
        if period is not None and period.get("value"):
            every = f" every {period.get('value')} {period.get('unit') or ''}".rstrip()
        if value:
            parts.append(f"{value} {unit}".strip() + every)
    return "; ".join(parts) or None


def _first(node: etree._Element, path: str) -> etree._Element | None:
    found = node.xpath(path, namespaces=_NS)
    return found[0] if found else None


def _reference(node: etree._Element) -> str | None:
    return _reference_of(_first(node, "h:text"))


def _reference_of(node: etree._Element | None) -> str | None:
    if node is None:
        return None
    value = node.xpath("(h:reference|h:originalText/h:reference)/@value", namespaces=_NS)
    return value[0].strip().lstrip("#") if value else None


def _line_id(node: etree._Element) -> str | None:
    ident = _first(node, "h:id")
    if ident is None or not ident.get("root"):
        return None
    ext = ident.get("extension")
    return ident.get("root") + (f"^{ext}" if ext else "")


def _renewals(node: etree._Element, number: int) -> int:
    value = node.xpath("h:repeatNumber/@value", namespaces=_NS)
    if not value:
        return 0
    try:
        count = int(value[0])
    except ValueError:
        raise _fail(f"line {number}: repeatNumber is not a whole number") from None
    if not 0 <= count <= 99:
        raise _fail(f"line {number}: repeatNumber out of range")
    return count


def _quantity(node: etree._Element, number: int) -> Quantity:
    raw = node.get("value")
    try:
        value = float(raw) if raw is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= 100000:
        raise _fail(f"line {number}: the quantity is not a number in range")
    return Quantity(value=value, unit=node.get("unit"))


def _interval(node: etree._Element, number: int) -> tuple[dt.date | None, dt.date | None]:
    eff = node.xpath("h:effectiveTime[h:low or h:high]", namespaces=_NS)
    if not eff:
        return None, None
    low = eff[0].xpath("h:low/@value", namespaces=_NS)
    high = eff[0].xpath("h:high/@value", namespaces=_NS)
    start = _timestamp(low[0], f"line {number} start").date() if low else None
    end = _timestamp(high[0], f"line {number} end").date() if high else None
    if start and end and end < start:
        raise _fail(f"line {number}: the treatment ends before it starts")
    return start, end


def _timestamp(value: str | None, what: str) -> dt.datetime:
    match = _TS.fullmatch((value or "").strip())
    if match is None:
        raise _fail(f"{what} is not an HL7 timestamp")
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        tz = dt.UTC
        if zone:
            sign = -1 if zone[0] == "-" else 1
            tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])))
        return dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0),
            int(second or 0), tzinfo=tz,
        )  # fmt: skip
    except ValueError:
        raise _fail(f"{what} is not a valid date") from None


def _collapse(text: str) -> str:
    return " ".join(text.split())
