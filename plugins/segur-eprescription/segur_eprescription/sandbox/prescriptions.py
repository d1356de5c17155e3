"""The sandbox's prescriptions: eP-MED-DM CDA documents written with the structure of
the kit's examples (``ExemplesCDA/eP-MED-DM_2024.01_*.xml``): the same header parts,
the unique id in ``documentationOf/serviceEvent``, and the "Prescriptions" section with
one ``substanceAdministration`` per line (product code with its CIP translation, or the
substance; narrative cells ``med-NNN`` and ``med-NNN-posologie``; ``repeatNumber``;
the requested quantity; the substitution act). They are fixtures, read back by
:func:`~segur_eprescription.epmeddm.read_prescription`, not documents for the DMP: the
persons, codes and structure are fictitious.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from segur_eprescription.ids import PRESCRIPTION_ID_OID
from segur_eprescription.models import CIP13_OID, CIS_OID, ProductKind

__all__ = ["SEEDS", "SeedLine", "prescription_cda"]

HL7 = "urn:hl7-org:v3"
PHARM = "urn:ihe:pharm:medication"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NSMAP = {None: HL7, "pharm": PHARM, "xsi": XSI}


def _el(parent: etree._Element | None, tag: str, text: str | None = None, **attrs: str):
    ns = PHARM if tag.startswith("pharm:") else HL7
    name = f"{{{ns}}}{tag.removeprefix('pharm:')}"
    node = etree.Element(name, nsmap=_NSMAP) if parent is None else etree.SubElement(parent, name)
    for key, value in attrs.items():
        node.set(f"{{{XSI}}}type" if key == "xsi_type" else key, value)
    if text is not None:
        node.text = text
    return node


class SeedLine:
    """A line of a sandbox prescription (plain arguments of :func:`prescription_cda`)."""

    def __init__(
        self,
        label: str,
        *,
        kind: ProductKind = ProductKind.CIP13,
        cis: str | None = None,
        cip13: str | None = None,
        substance: str | None = None,
        atc: str | None = None,
        dosage: str = "1 comprimé matin et soir",
        quantity: int = 1,
        days: int = 30,
        renewals: int = 0,
        substitutable: bool = True,
    ) -> None:
        self.label, self.kind, self.cis, self.cip13 = label, kind, cis, cip13
        self.substance, self.atc, self.dosage = substance, atc, dosage
        self.quantity, self.days, self.renewals = quantity, days, renewals
        self.substitutable = substitutable


def prescription_cda(
    prescription_id: str,
    lines: list[SeedLine],
    *,
    issued_at: dt.datetime,
    rpps: str = "810000000001",
    patient_nir: str = "279035121518989",
) -> bytes:
    """An eP-MED-DM document for ``prescription_id`` with ``lines``."""
    stamp = issued_at.strftime("%Y%m%d%H%M%S%z")
    day = issued_at.strftime("%Y%m%d")
    root = _el(None, "ClinicalDocument")
    _el(root, "realmCode", code="FR")
    _el(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    for template in (
        "2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1", "1.3.6.1.4.1.19376.1.9.1.1.1",
        "1.3.6.1.4.1.19376.1.5.3.1.1.1",
    ):  # fmt: skip
        _el(root, "templateId", root=template)
    _el(root, "templateId", root="1.2.250.1.213.1.1.1.39", extension="2024.01")
    _el(root, "id", root="1.2.250.1.213.1.1.9.999.1", extension=prescription_id)
    loinc = {"codeSystem": "2.16.840.1.113883.6.1", "codeSystemName": "LOINC"}
    _el(root, "code", code="57833-6", displayName="Prescription de produits de santé", **loinc)
    _el(root, "title", "Prescription de médicaments")
    _el(root, "effectiveTime", value=stamp)
    _el(root, "confidentialityCode", code="N", codeSystem="2.16.840.1.113883.5.25")
    _el(root, "languageCode", code="fr-FR")
    _el(root, "setId", root="1.2.250.1.213.1.1.9.999.2", extension=prescription_id)
    _el(root, "versionNumber", value="1")
    role = _el(_el(root, "recordTarget"), "patientRole")
    _el(role, "id", root="1.2.250.1.213.1.4.10", extension=patient_nir)
    patient = _el(role, "patient", classCode="PSN")
    name = _el(patient, "name")
    _el(name, "family", "SANDBOX", qualifier="BR")
    _el(name, "given", "CAMILLE")
    _el(patient, "administrativeGenderCode", code="F", codeSystem="2.16.840.1.113883.5.1")
    _el(patient, "birthTime", value="19790328")
    author = _el(_el(root, "author"), "time", value=stamp).getparent()
    assigned = _el(author, "assignedAuthor")
    _el(assigned, "id", root="1.2.250.1.71.4.2.1", extension=rpps)
    _el(assigned, "code", code="G15_10/SM26", codeSystem="1.2.250.1.213.1.1.4.5")
    person = _el(_el(assigned, "assignedPerson"), "name")
    _el(person, "given", "Alex")
    _el(person, "family", "PRESCRIPTEUR")
    org = _el(assigned, "representedOrganization")
    _el(org, "id", root="1.2.250.1.71.4.2.2", extension="1750000001")
    _el(org, "name", "Cabinet sandbox")
    custodian = _el(
        _el(_el(root, "custodian"), "assignedCustodian"), "representedCustodianOrganization"
    )
    _el(custodian, "id", root="1.2.250.1.71.4.2.2", extension="1750000001")
    event = _el(_el(root, "documentationOf"), "serviceEvent", classCode="ACT")
    _el(event, "id", root=PRESCRIPTION_ID_OID, extension=prescription_id)
    _el(event, "code", code="57833-6", **loinc)
    eff = _el(event, "effectiveTime")
    _el(eff, "low", value=stamp)
    _el(eff, "high", value=(issued_at + dt.timedelta(days=90)).strftime("%Y%m%d%H%M%S%z"))
    section = _el(_el(_el(_el(root, "component"), "structuredBody"), "component"), "section")
    _el(section, "templateId", root="1.3.6.1.4.1.19376.1.9.1.2.1")
    _el(section, "templateId", root="1.2.250.1.213.1.1.2.171")
    _el(section, "code", code="57828-6", **loinc)
    _el(section, "title", "Prescription de médicaments")
    tbody = _el(_el(_el(section, "text"), "table"), "tbody")
    for number, line in enumerate(lines, start=1):
        ref = f"med-{number:03d}"
        row = _el(tbody, "tr")
        _el(_el(row, "td"), "content", line.label, ID=ref)
        _el(_el(row, "td"), "content", line.dosage, ID=f"{ref}-posologie")
        _el(_el(row, "td"), "content", str(line.renewals))
        _entry(section, line, ref, day, number)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _entry(section: etree._Element, line: SeedLine, ref: str, day: str, number: int) -> None:
    sa = _el(_el(section, "entry"), "substanceAdministration", classCode="SBADM", moodCode="INT")
    for template in ("1.3.6.1.4.1.19376.1.5.3.1.4.7", "1.2.250.1.213.1.1.3.83"):
        _el(sa, "templateId", root=template)
    _el(sa, "id", root="1.2.250.1.213.1.1.9.999.3", extension=f"{number}")
    _el(sa, "code", code="DRUG", codeSystem="2.16.840.1.113883.5.4")
    _el(_el(sa, "text"), "reference", value=f"#{ref}")
    _el(sa, "statusCode", code="completed")
    eff = _el(sa, "effectiveTime", xsi_type="IVL_TS")
    start = dt.datetime.strptime(day, "%Y%m%d")
    _el(eff, "low", value=day)
    _el(eff, "high", value=(start + dt.timedelta(days=line.days - 1)).strftime("%Y%m%d"))
    _el(sa, "repeatNumber", value=str(line.renewals))
    material = _el(
        _el(_el(sa, "consumable"), "manufacturedProduct", classCode="MANU"),
        "manufacturedMaterial", classCode="MMAT", determinerCode="KIND",
    )  # fmt: skip
    if line.kind is ProductKind.SUBSTANCE:
        _el(material, "code", nullFlavor="NA")
    else:
        code = _el(material, "code", code=line.cis or "", displayName=line.label,
                   codeSystem=CIS_OID, codeSystemName="CIS")  # fmt: skip
        if line.cip13:
            _el(code, "translation", code=line.cip13, codeSystem=CIP13_OID, codeSystemName="CIP")
        _el(material, "name", line.label)
    if line.substance:
        kind = _el(material, "pharm:asSpecializedKind", classCode="GRIC")
        general = _el(kind, "pharm:generalizedMedicineClass", classCode="MMAT")
        if line.atc:
            _el(general, "pharm:code", code=line.atc, codeSystem="2.16.840.1.113883.6.73")
        _el(general, "pharm:name", line.substance)
    supply = _el(_el(sa, "entryRelationship", typeCode="COMP"), "supply",
                 classCode="SPLY", moodCode="RQO")  # fmt: skip
    _el(supply, "independentInd", value="false")
    _el(supply, "quantity", value=str(line.quantity), unit="30009000")
    if not line.substitutable:
        act = _el(_el(sa, "entryRelationship", typeCode="COMP"), "act",
                  classCode="ACT", moodCode="DEF")  # fmt: skip
        _el(act, "templateId", root="1.2.250.1.213.1.1.3.87")
        _el(act, "code", code="N", codeSystem="2.16.840.1.113883.5.1070")
        _el(act, "statusCode", code="completed")


#: The prescriptions the sandbox serves from the start (codes are sandbox fixtures; the
#: paracetamol codes are those of the kit's examples).
SEEDS: dict[str, list[SeedLine]] = {
    "SBX000000000000001": [
        SeedLine(
            "DOLIPRANE 500 mg, comprimé",
            cis="60234100",
            cip13="3400930000014",
            substance="paracetamol",
            atc="N02BE01",
            dosage="1 à 2 comprimés 3 fois par jour",
            quantity=2,
            days=6,
            renewals=1,
        ),
        SeedLine(
            "LEVOTHYROX 50 microgrammes, comprimé sécable",
            cis="67808051",
            cip13="3400930000021",
            substance="levothyroxine",
            atc="H03AA01",
            dosage="1 comprimé le matin à jeun",
            quantity=1,
            renewals=1,
            substitutable=False,
        ),
        SeedLine(
            "Amoxicilline 1 g",
            kind=ProductKind.SUBSTANCE,
            substance="amoxicilline",
            atc="J01CA04",
            dosage="1 g matin et soir pendant 6 jours",
            quantity=1,
            days=6,
        ),
    ],
    "SBX000000000000002": [
        SeedLine(
            "PARACETAMOL MYLAN 500 mg, comprimé",
            cis="63107752",
            cip13="3400933516390",
            substance="paracetamol",
            atc="N02BE01",
            quantity=1,
            days=5,
        )
    ],
}
