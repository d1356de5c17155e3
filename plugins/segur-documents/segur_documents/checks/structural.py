"""The plugin's own structural checks of a CDA R2 header and body.

They need no kit and run on every document: the Structuration minimale essentials
(ids, codes, INS traits, authors, legal authenticator...), N1/N3 body shape, and for a
note de vaccination the VAC-NOTE entry essentials. They never replace the official
schematrons; they catch the obvious mistakes when the kit is absent.
"""

from __future__ import annotations

from lxml import etree

from segur_core.errors import ValidationIssue
from segur_documents import codes

__all__ = ["element_path", "structural_issues"]

_NS = {"c": "urn:hl7-org:v3", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
_SOURCE = "segur-structure"


def element_path(node: etree._Element) -> str:
    """A readable XPath of a node (``/ClinicalDocument/component[1]/...``)."""
    steps = []
    while node is not None:
        parent = node.getparent()
        name = etree.QName(node).localname
        if parent is None:
            steps.append(name)
        else:
            same = [c for c in parent if isinstance(c.tag, str) and c.tag == node.tag]
            steps.append(f"{name}[{same.index(node) + 1}]")
        node = parent
    return "/" + "/".join(reversed(steps))


def _xp(node: etree._Element, path: str) -> list:
    return node.xpath(path, namespaces=_NS)


def structural_issues(root: etree._Element) -> list[ValidationIssue]:
    """Everything structurally wrong with a CDA document, as issues."""
    issues: list[ValidationIssue] = []

    def need(
        path: str, message: str, rule: str, *, count: int | None = 1, at_least: int | None = None
    ) -> None:
        found = len(_xp(root, path))
        ok = found >= at_least if at_least is not None else found == count
        if not ok:
            location = "/ClinicalDocument/" + path.replace("c:", "")
            issues.append(ValidationIssue(message, location=location, source=_SOURCE, rule=rule))

    if etree.QName(root).localname != "ClinicalDocument" or etree.QName(root).namespace != _NS["c"]:
        return [
            ValidationIssue(
                "l'élément racine n'est pas un ClinicalDocument CDA R2",
                location="/",
                source=_SOURCE,
                rule="root",
            )
        ]
    need("c:realmCode[@code='FR']", "realmCode FR obligatoire", "realm")
    need(
        "c:typeId[@root='2.16.840.1.113883.1.3' and @extension='POCD_HD000040']",
        "typeId POCD_HD000040 obligatoire",
        "typeId",
    )
    need(
        f"c:templateId[@root='{codes.TPL_HL7_FRANCE}']",
        "templateId HL7 France 2.16.840.1.113883.2.8.2.1 obligatoire",
        "template.hl7fr",
    )
    need(
        f"c:templateId[@root='{codes.TPL_CISIS}']",
        "templateId CI-SIS 1.2.250.1.213.1.1.1.1 obligatoire",
        "template.cisis",
    )
    need(
        "c:templateId",
        "au moins un templateId de volet (ou XDS-SD) est attendu",
        "template.volet",
        count=None,
        at_least=3,
    )
    for tag in (
        "id",
        "title",
        "effectiveTime",
        "languageCode",
        "setId",
        "versionNumber",
        "confidentialityCode",
    ):
        need(
            f"c:{tag}[not(@nullFlavor)]",
            f"{tag} obligatoire (1..1, sans nullFlavor)",
            f"header.{tag}",
        )
    need(
        "c:code[@code and @codeSystem and @displayName]",
        "code du document obligatoire avec code, codeSystem et displayName",
        "header.code",
    )
    need("c:recordTarget/c:patientRole", "un et un seul patient (recordTarget)", "recordTarget")
    need("c:author/c:assignedAuthor", "au moins un auteur", "author", count=None, at_least=1)
    for author in _xp(root, "c:author/c:assignedAuthor"):
        if not _xp(author, "c:id[@root and @extension]"):
            issues.append(
                ValidationIssue(
                    "identifiant de l'auteur obligatoire",
                    location=element_path(author),
                    source=_SOURCE,
                    rule="author.id",
                )
            )
    need(
        "c:custodian/c:assignedCustodian/c:representedCustodianOrganization/c:id",
        "organisation responsable (custodian) obligatoire",
        "custodian",
    )
    need(
        "c:legalAuthenticator[c:signatureCode/@code='S']/c:time[@value]",
        "legalAuthenticator avec signatureCode S et time obligatoire",
        "legalAuthenticator",
    )
    need(
        "c:documentationOf/c:serviceEvent",
        "documentationOf/serviceEvent obligatoire",
        "serviceEvent",
        count=None,
        at_least=1,
    )
    need(
        "c:documentationOf[1]/c:serviceEvent/c:performer",
        "le premier serviceEvent a exactement un performer",
        "serviceEvent.performer",
    )
    need(
        "c:componentOf/c:encompassingEncounter",
        "componentOf/encompassingEncounter obligatoire",
        "encompassingEncounter",
    )
    if len(_xp(root, "c:relatedDocument[@typeCode='RPLC']")) > 1:
        issues.append(
            ValidationIssue(
                "au plus un relatedDocument RPLC",
                source=_SOURCE,
                location="/ClinicalDocument/relatedDocument",
                rule="relatedDocument",
            )
        )
    _ins_traits(root, issues)
    structured = _xp(root, "c:component/c:structuredBody")
    non_xml = _xp(root, "c:component/c:nonXMLBody")
    if len(structured) + len(non_xml) != 1:
        issues.append(
            ValidationIssue(
                "un et un seul corps (structuredBody ou nonXMLBody)",
                location="/ClinicalDocument/component",
                source=_SOURCE,
                rule="body",
            )
        )
    if non_xml:
        text = _xp(non_xml[0], "c:text")
        if not text or not text[0].get("mediaType") or text[0].get("representation") != "B64":
            issues.append(
                ValidationIssue(
                    "nonXMLBody/text doit porter mediaType et representation B64",
                    location="/ClinicalDocument/component/nonXMLBody/text",
                    source=_SOURCE,
                    rule="body.nonxml",
                )
            )
        if len(_xp(root, "c:templateId")) != 3 or not _xp(
            root, f"c:templateId[@root='{codes.TPL_XDS_SD}']"
        ):
            issues.append(
                ValidationIssue(
                    f"un document N1 porte exactement 3 templateId dont XDS-SD {codes.TPL_XDS_SD}",
                    location="/ClinicalDocument/templateId",
                    source=_SOURCE,
                    rule="template.n1",
                )
            )
    if _xp(root, f"c:templateId[@root='{codes.TPL_VAC_NOTE}']"):
        _vac_note(root, issues)
    return issues


def _ins_traits(root: etree._Element, issues: list[ValidationIssue]) -> None:
    roots = _xp(root, "c:recordTarget/c:patientRole/c:id/@root")
    if not codes.INS_OIDS.intersection(roots):
        return
    patient = _xp(root, "c:recordTarget/c:patientRole/c:patient")
    base = "/ClinicalDocument/recordTarget/patientRole/patient"
    required = {
        "c:name/c:family[@qualifier='BR']": "nom de naissance (family@BR)",
        "c:name/c:given[@qualifier='BR']": "premier prénom de naissance (given@BR)",
        "c:name/c:given[not(@qualifier)]": "prénoms de naissance (given)",
        "c:birthTime[@value]": "date de naissance (birthTime)",
        "c:birthplace/c:place/c:addr/c:county": "lieu de naissance (county, code COG)",
        "c:administrativeGenderCode[@code]": "sexe (administrativeGenderCode)",
    }
    for path, label in required.items():
        if not patient or not _xp(patient[0], path):
            issues.append(
                ValidationIssue(
                    f"INS présent : trait obligatoire manquant : {label}",
                    location=base,
                    source=_SOURCE,
                    rule="ins.traits",
                )
            )


def _vac_note(root: etree._Element, issues: list[ValidationIssue]) -> None:
    sections = _xp(root, "c:component/c:structuredBody/c:component/c:section")
    entries = _xp(
        root, ".//c:substanceAdministration[c:templateId/@root='1.3.6.1.4.1.19376.1.5.3.1.4.12']"
    )
    base = "/ClinicalDocument/component/structuredBody"
    if len(sections) != 1 or len(entries) != 1:
        issues.append(
            ValidationIssue(
                "une note de vaccination a une section FR-Vaccinations et une entrée "
                "FR-Vaccination",
                location=base,
                source=_SOURCE,
                rule="vac-note.entry",
            )
        )
        return
    entry = entries[0]
    material = "c:consumable/c:manufacturedProduct/c:manufacturedMaterial"
    cis = f"{material}/c:code[@codeSystem='{codes.CIS}' and @displayName]"
    atc = f"{material}/c:code/c:translation[@codeSystem='{codes.ATC}' and @displayName]"
    checks = {
        cis: "code CIS du vaccin (avec displayName) obligatoire",
        atc: "code ATC du vaccin (avec displayName) obligatoire",
        f"{material}/c:lotNumberText": "numéro de lot obligatoire",
        "c:author/c:assignedAuthor/c:assignedPerson/c:name": "auteur de la vaccination obligatoire",
    }
    for path, message in checks.items():
        if not _xp(entry, path):
            issues.append(
                ValidationIssue(
                    message, location=element_path(entry), source=_SOURCE, rule="vac-note.entry"
                )
            )
    value = (_xp(entry, "c:effectiveTime/@value") or [""])[0]
    if len(value) != 8:
        issues.append(
            ValidationIssue(
                "date de vaccination AAAAMMJJ obligatoire",
                location=element_path(entry),
                source=_SOURCE,
                rule="vac-note.date",
            )
        )
