"""The eDISP-MED 2024.01 CDA (CI-SIS volet "Dispensation médicamenteuse", template
``1.2.250.1.213.1.1.1.54``, LOINC 60593-1, formatCode ``urn:ihe:pharm:dis:2010``) built
from a dispensation report, with the structure of the kit's ``eDISP-MED_2024.01.xml``:

- the header of segur-documents (patient, pharmacist author, custodian, legal
  authenticator, service event, encounter in the officine); ``inFulfillmentOf/order``
  names the prescription document and ``serviceEvent/id`` the prescription's unique id
  (``1.2.250.1.215.500.1.1``, §8.1 of the reference);
- one "Médicaments délivrés" section (LOINC 60590-7), with one ``supply`` (EVN) per line
  delivered: the product delivered (its CIP13 as the example writes it), the quantity,
  the prescription item it fulfils (``REFR``), the substitution act (code ``G``, generic)
  when the pharmacist substituted, and the dispenser's note (the reason of an adaptation
  or a partial dispensation). A line not delivered has no ``supply``: its reason is in
  the narrative.

The document is checked by segur-documents' validator (kit XSD and the official
schematrons, volet eDISP-MED included) in the tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lxml import etree
from segur_documents.builders import document_header
from segur_documents.cda import cda_time, el, new_uuid, to_bytes
from segur_documents.models import DocumentContext

from segur_eprescription.dispensation import Decision, DispensationReport, LineDispensation
from segur_eprescription.ids import PRESCRIPTION_ID_OID
from segur_eprescription.models import CIP13_OID, EPrescription, Product, Quantity

__all__ = ["EDISP_MED_TEMPLATE", "build_edisp"]

EDISP_MED_TEMPLATE = "1.2.250.1.213.1.1.1.54"
_TEMPLATES = [
    ("2.16.840.1.113883.2.8.2.1", None),
    ("1.2.250.1.213.1.1.1.1", None),
    ("1.3.6.1.4.1.19376.1.5.3.1.1.1", None),
    ("1.3.6.1.4.1.19376.1.9.1.1.3", None),
    (EDISP_MED_TEMPLATE, "2024.01"),
]
_LOINC = {"codeSystem": "2.16.840.1.113883.6.1", "codeSystemName": "LOINC"}
PHARM = "urn:ihe:pharm:medication"
_LABELS = {
    Decision.DELIVERED: "Délivré comme prescrit",
    Decision.SUBSTITUTED: "Substitution par un produit générique",
    Decision.ADAPTED: "Adaptation par le pharmacien",
    Decision.PARTIAL: "Dispensation partielle (séquencée)",
    Decision.NOT_DELIVERED: "Non délivré",
}


def build_edisp(
    prescription: EPrescription, report: DispensationReport, ctx: DocumentContext
) -> tuple[bytes, list[str]]:
    """The eDISP-MED document of ``report`` and the header's warnings (no INS...)."""
    warnings: list[str] = []
    at = report.dispensed_at
    root, _doc_id, _set_id = document_header(
        ctx, "edisp", "Dispensation médicamenteuse", _TEMPLATES, cda_time(at), warnings
    )
    event = root.find("{urn:hl7-org:v3}documentationOf/{urn:hl7-org:v3}serviceEvent")
    ident = etree.Element("{urn:hl7-org:v3}id", root=PRESCRIPTION_ID_OID)
    ident.set("extension", prescription.id)
    event.insert(0, ident)
    if prescription.document_id:
        fulfils = etree.Element("{urn:hl7-org:v3}inFulfillmentOf")
        doc_root, _, doc_ext = prescription.document_id.partition("^")
        el(el(fulfils, "order"), "id", root=doc_root, extension=doc_ext or None)
        event.getparent().addprevious(fulfils)
    section = el(
        el(el(el(root, "component"), "structuredBody"), "component"),
        "section", classCode="DOCSECT", moodCode="EVN",
    )  # fmt: skip
    for template in ("1.3.6.1.4.1.19376.1.9.1.2.3", "2.16.840.1.113883.10.20.1.8",
                     "1.2.250.1.213.1.1.2.236"):  # fmt: skip
        el(section, "templateId", root=template)
    el(section, "id", root=new_uuid())
    el(section, "code", code="60590-7", displayName="Médicaments délivrés", **_LOINC)
    el(section, "title", "Médicaments délivrés")
    _narrative(section, prescription, report)
    for line in report.lines:
        if line.dispensed is not None and line.decision is not Decision.NOT_DELIVERED:
            _supply(section, prescription, line, at)
    return to_bytes(root), warnings


def _pharm(parent: Any, tag: str, text: str | None = None, **attrs: str | None) -> Any:
    """An element of the IHE pharmacy namespace (``pharm:``)."""
    node = etree.SubElement(parent, f"{{{PHARM}}}{tag}", nsmap={"pharm": PHARM})
    for name, value in attrs.items():
        if value is not None:
            node.set(name, value)
    if text is not None:
        node.text = text
    return node


def _ref(line: LineDispensation) -> str:
    return f"med-{line.line:03d}"


def _qty(q: Quantity | None) -> str:
    if q is None:
        return ""
    return f"{q.value:g}" + (" boîte(s)" if q.unit == "30009000" else f" {q.unit or ''}").rstrip()


def _narrative(section: Any, prescription: EPrescription, report: DispensationReport) -> None:
    table = el(el(section, "text"), "table", border="0")
    head = el(el(table, "thead"), "tr")
    for title in ("Médicament prescrit", "Médicament délivré", "Quantité délivrée",
                  "Intervention", "Note du dispensateur"):  # fmt: skip
        el(head, "th", title)
    body = el(table, "tbody")
    for line in report.lines:
        ref = _ref(line)
        row = el(body, "tr")
        el(el(row, "td"), "content", line.prescribed.label, ID=f"{ref}-prescrit")
        el(el(row, "td"), "content", line.dispensed.label if line.dispensed else "—",
           ID=f"{ref}-delivre")  # fmt: skip
        el(row, "td", _qty(line.quantity) or "—")
        el(el(row, "td"), "content", _LABELS[line.decision], ID=f"{ref}-substitution")
        note = line.reason or _LABELS[line.decision]
        el(el(row, "td"), "content", note, ID=f"{ref}-notes-dispensateur")


def _material(parent: Any, product: Product, ref: str) -> None:
    mp = el(parent, "manufacturedProduct", classCode="MANU")
    for template in ("2.16.840.1.113883.10.20.1.53", "1.3.6.1.4.1.19376.1.5.3.1.4.7.2",
                     "1.2.250.1.213.1.1.3.43"):  # fmt: skip
        el(mp, "templateId", root=template)
    material = el(mp, "manufacturedMaterial", classCode="MMAT", determinerCode="KIND")
    el(material, "templateId", root="1.3.6.1.4.1.19376.1.9.1.3.1")
    if product.code and product.system == CIP13_OID:
        code = el(material, "code")
        el(el(code, "originalText"), "reference", value=f"#{ref}-delivre")
        translation = el(code, "translation", code=product.code, displayName=product.label,
                         codeSystem=CIP13_OID, codeSystemName="CIP")  # fmt: skip
        el(el(translation, "originalText"), "reference", value=f"#{ref}-delivre")
    elif product.code and product.system:
        code = el(material, "code", code=product.code, displayName=product.label,
                  codeSystem=product.system)  # fmt: skip
        el(el(code, "originalText"), "reference", value=f"#{ref}-delivre")
    else:
        code = el(material, "code", nullFlavor="NA")
        el(el(code, "originalText"), "reference", value=f"#{ref}-delivre")
    el(material, "name", product.label)
    if product.substance:
        general = _pharm(
            _pharm(material, "asSpecializedKind", classCode="GRIC"),
            "generalizedMedicineClass", classCode="MMAT",
        )  # fmt: skip
        if product.substance_code and product.substance_system:
            _pharm(general, "code", code=product.substance_code,
               displayName=product.substance, codeSystem=product.substance_system)  # fmt: skip
        _pharm(general, "name", product.substance)


def _supply(section: Any, prescription: EPrescription, line: LineDispensation, at: dt.datetime):
    ref = _ref(line)
    supply = el(el(section, "entry"), "supply", classCode="SPLY", moodCode="EVN")
    for template in ("2.16.840.1.113883.10.20.1.34", "1.3.6.1.4.1.19376.1.5.3.1.4.7.3",
                     "1.3.6.1.4.1.19376.1.9.1.3.4", "1.2.250.1.213.1.1.3.204"):  # fmt: skip
        el(supply, "templateId", root=template)
    el(supply, "id", root=new_uuid())
    el(el(supply, "text"), "reference", value=f"#{ref}-delivre")
    el(supply, "effectiveTime", value=cda_time(at))
    if line.quantity is not None:
        el(supply, "quantity", value=f"{line.quantity.value:g}", unit=line.quantity.unit)
    _material(el(supply, "product"), line.dispensed, ref)
    # the prescription item this dispensation fulfils
    item = el(
        el(supply, "entryRelationship", typeCode="REFR", inversionInd="false"),
        "substanceAdministration", classCode="SBADM", moodCode="INT",
    )  # fmt: skip
    el(item, "templateId", root="1.3.6.1.4.1.19376.1.9.1.3.11")
    el(item, "templateId", root="1.2.250.1.213.1.1.3.90")
    source = prescription.line(line.line)
    item_root, _, item_ext = (source.line_id or new_uuid()).partition("^")
    el(item, "id", root=item_root, extension=item_ext or None)
    code = el(item, "code", code="PREItem", displayName="Prescription Item",
              codeSystem="1.3.6.1.4.1.19376.1.9.2.2",
              codeSystemName="IHE Pharmacy Item Type List")  # fmt: skip
    el(el(code, "originalText"), "reference", value=f"#{ref}-prescrit")
    material = el(el(el(item, "consumable"), "manufacturedProduct"), "manufacturedMaterial",
                  nullFlavor="NA")  # fmt: skip
    el(material, "name", nullFlavor="NA")
    if prescription.document_id:
        doc_root, _, doc_ext = prescription.document_id.partition("^")
        external = el(el(item, "reference", typeCode="XCRPT"), "externalDocument")
        el(external, "id", root=doc_root, extension=doc_ext or None)
    # the dispenser's note (the reason, else the intervention): the CI-SIS supply entry
    # requires this act as soon as it has any entryRelationship
    act = el(el(supply, "entryRelationship", typeCode="SUBJ", inversionInd="true"), "act",
             classCode="ACT", moodCode="INT")  # fmt: skip
    for template in ("2.16.840.1.113883.10.20.1.43", "1.3.6.1.4.1.19376.1.5.3.1.4.3.1",
                     "1.2.250.1.213.1.1.3.207"):  # fmt: skip
        el(act, "templateId", root=template)
    el(act, "code", code="FINSTRUCT", codeSystem="1.3.6.1.4.1.19376.1.5.3.2",
       codeSystemName="IHEActCode")  # fmt: skip
    el(el(act, "text"), "reference", value=f"#{ref}-notes-dispensateur")
    el(act, "statusCode", code="completed")
    if line.decision is Decision.SUBSTITUTED:
        act = el(el(supply, "entryRelationship", typeCode="COMP"), "act",
                 classCode="ACT", moodCode="EVN")  # fmt: skip
        el(act, "templateId", root="1.3.6.1.4.1.19376.1.9.1.3.9.2")
        el(act, "templateId", root="1.2.250.1.213.1.1.3.206")
        code = el(act, "code", code="G", codeSystem="2.16.840.1.113883.5.1070",
                  codeSystemName="HL7_substanceAdminSubstitution",
                  displayName="Substitution autorisée par un produit générique")  # fmt: skip
        el(el(code, "originalText"), "reference", value=f"#{ref}-substitution")
        el(act, "statusCode", code="completed")
