"""Build CI-SIS CDA R2 documents from the models.

* note de vaccination: structured (N3), volet VAC-NOTE 2023.01;
* compte-rendu d'entretien pharmaceutique and bilan partagé de médication:
  non-structured (N1) with a PDF body.

The header follows the Structuration minimale (template ``1.2.250.1.213.1.1.1.1``).
"""

from __future__ import annotations

import base64
import re

import attrs
from lxml import etree

from segur_core.errors import DocumentError
from segur_core.model import DocumentStatus, HealthDocument, Practitioner, Structure
from segur_documents import codes
from segur_documents.cda import (
    MAX_XML_BYTES,
    cda_date,
    cda_time,
    el,
    new_oid,
    new_uuid,
    to_bytes,
)
from segur_documents.models import (
    BilanMedication,
    BuildResult,
    DocumentContext,
    Entretien,
    Vaccination,
    default_local_root,
)
from segur_documents.telecom import mailto_uri, tel_uri

__all__ = [
    "NO_INS_WARNING",
    "build_bpm",
    "build_entretien",
    "build_vaccination",
    "document_header",
    "host_problems",
    "specialty_of",
]

NO_INS_WARNING = (
    "identité du patient non qualifiée : l'INS n'est pas partagé, le document ne porte que "
    "l'identifiant local de la pharmacie (il ne peut pas alimenter le DMP)"
)


def specialty_of(practitioner: Practitioner) -> codes.Code:
    """The JDV_J01 author specialty of a professional (``G15_21`` pharmacien by default)."""
    code = practitioner.specialty or f"G15_{practitioner.profession}"
    display = codes.AUTHOR_SPECIALTIES.get(code)
    if display is None:
        raise DocumentError(
            f"unknown author specialty {code!r}",
            hint="use a JDV_J01 code such as G15_21 or G15_21/A",
        )
    return codes.Code(code, codes.PROFESSION_SAVFAIRE, display)


def host_problems(structure: Structure, practitioner: Practitioner) -> list[str]:
    """What in the host's structure or practitioner no document header could carry,
    each naming the hook and the field (empty when a document can be built)."""
    problems = []
    try:
        specialty_of(practitioner)
    except DocumentError as exc:
        problems.append(f"host_practitioner: specialty: {exc}")
    if structure.activity_sector not in codes.FACILITY_TYPES:
        problems.append(
            f"host_structure: activity_sector {structure.activity_sector!r} is not a "
            f"pharmacy's TRE_R02 sector ({', '.join(codes.FACILITY_TYPES)}), which the "
            "documents name as their healthcare facility"
        )
    if structure.phone:
        try:
            tel_uri(structure.phone, field="structure.phone")
        except DocumentError as exc:
            problems.append(f"host_structure: {exc.message}")
    return problems


# -- header --------------------------------------------------------------------------------


def _code(parent, tag: str, code: codes.Code, system_name: str | None = None, **extra):
    return el(
        parent,
        tag,
        code=code.code,
        displayName=code.display,
        codeSystem=code.system,
        codeSystemName=system_name,
        **extra,
    )


_HOUSE_NUMBER = re.compile(r"^(\d+\s?(?:bis|ter|quater|[A-Za-z])?),?\s+(.+)$")


def _address(parent, address) -> None:
    if not (address.lines or address.postal_code or address.city):
        return
    addr = el(parent, "addr")
    # the CI-SIS address is structured (houseNumber, streetName...), not streetAddressLine
    if address.lines:
        match = _HOUSE_NUMBER.match(address.lines[0])
        if match:
            el(addr, "houseNumber", match.group(1))
            el(addr, "streetName", match.group(2))
        else:
            el(addr, "streetName", address.lines[0])
        for line in address.lines[1:]:
            el(addr, "unitID", line)
    if address.postal_code:
        el(addr, "postalCode", address.postal_code)
    if address.city:
        el(addr, "city", address.city)


def _organization(parent, tag: str, ctx: DocumentContext, *, setting: bool = False) -> None:
    org = el(parent, tag)
    el(org, "id", root=codes.STRUCT_IDNAT, extension=ctx.structure.idnst)
    el(org, "name", ctx.structure.name)
    if ctx.structure.phone:
        el(org, "telecom", value=tel_uri(ctx.structure.phone, field="structure.phone"), use="WP")
    _address(org, ctx.structure.address)
    if setting:
        el(
            org,
            "standardIndustryClassCode",
            code="AMBULATOIRE",
            displayName="Ambulatoire",
            codeSystem=codes.CADRE_EXERCICE,
        )


_CIVILITIES = frozenset({"M", "MME"})
_TITLES = frozenset({"DR", "MC", "MG", "PC", "PG", "PR"})


def _person(parent, tag: str, who: Practitioner) -> None:
    person = el(parent, tag)
    name = el(person, "name")
    el(name, "family", who.family_name)
    el(name, "given", who.given_name)
    title = (who.title or "").upper().rstrip(".")
    if title in _CIVILITIES:  # JDV_J245 civilité -> prefix
        el(name, "prefix", title)
    elif title in _TITLES:  # JDV_J246 titre -> suffix
        el(name, "suffix", title)


def _assigned(parent, tag: str, who: Practitioner, ctx: DocumentContext, **kw) -> None:
    entity = el(parent, tag, **kw)
    el(entity, "id", root=codes.PS_IDNAT, extension=who.idnps)
    _code(entity, "code", specialty_of(who))
    _address(entity, ctx.structure.address)
    if ctx.structure.phone:
        el(entity, "telecom", value=tel_uri(ctx.structure.phone, field="structure.phone"), use="WP")
    _person(entity, "assignedPerson", who)
    _organization(entity, "representedOrganization", ctx, setting=tag == "assignedEntity")


def _record_target(root, ctx: DocumentContext, warnings: list[str]) -> None:
    patient = ctx.patient
    traits = patient.identity.traits
    role = el(el(root, "recordTarget"), "patientRole")
    if ctx.ins is not None:
        el(role, "id", root=ctx.ins.oid, extension=ctx.ins.matricule)
    else:
        warnings.append(NO_INS_WARNING)
    local_root = ctx.local_id_root or default_local_root(ctx.structure.finess)
    el(role, "id", root=local_root, extension=patient.id)
    if patient.phone:
        el(role, "telecom", value=tel_uri(patient.phone, field="patient.phone"), use="H")
    if patient.email:
        el(role, "telecom", value=mailto_uri(patient.email, field="patient.email"), use="H")
    person = el(role, "patient", classCode="PSN")
    name = el(person, "name")
    el(name, "family", traits.birth_name, qualifier="BR")
    if traits.first_names:
        el(name, "given", " ".join(traits.first_names))
        el(name, "given", traits.first_name, qualifier="BR")
    if traits.used_name:
        el(name, "family", traits.used_name, qualifier="CL")
    if traits.used_first_name:
        el(name, "given", traits.used_first_name, qualifier="CL")
    sex, sex_label = codes.SEX_CODES[str(traits.sex)]
    el(person, "administrativeGenderCode", code=sex, displayName=sex_label, codeSystem=codes.GENDER)
    birth = traits.birth_date
    value = f"{birth.year:04d}"
    if birth.month:
        value += f"{birth.month:02d}"
        if birth.day:
            value += f"{birth.day:02d}"
    el(person, "birthTime", value=value)
    if traits.birth_place:
        addr = el(el(el(person, "birthplace"), "place"), "addr")
        el(addr, "county", traits.birth_place)


def document_header(
    ctx: DocumentContext,
    kind: str,
    title: str,
    templates: list[tuple[str, str | None]],
    service_start: str,
    warnings: list[str],
):
    """The CI-SIS header every builder writes (another plugin's volets too: ``kind`` in
    :data:`~segur_documents.codes.DOCUMENT_TYPES`): ``(root, document id, set id)``."""
    doc_type = codes.DOCUMENT_TYPES[kind]
    root = el(None, "ClinicalDocument")
    el(root, "realmCode", code="FR")
    el(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    for template, extension in templates:
        el(root, "templateId", root=template, extension=extension)
    doc_id = new_oid()
    el(root, "id", root=doc_id)
    _code(root, "code", doc_type, "LOINC")
    el(root, "title", title)
    now = cda_time(ctx.effective_time)
    el(root, "effectiveTime", value=now)
    confidentiality = {"N": "Normal", "R": "Restreint", "V": "Très restreint"}
    el(
        root,
        "confidentialityCode",
        code=ctx.confidentiality,
        displayName=confidentiality[ctx.confidentiality],
        codeSystem=codes.CONFIDENTIALITY,
    )
    el(root, "languageCode", code="fr-FR")
    set_id = ctx.set_id or new_oid()
    el(root, "setId", root=set_id)
    el(root, "versionNumber", value=str(ctx.version))
    _record_target(root, ctx, warnings)

    author = el(root, "author")
    el(author, "time", value=now)
    _assigned(author, "assignedAuthor", ctx.author, ctx)

    custodian = el(el(root, "custodian"), "assignedCustodian")
    _organization(custodian, "representedCustodianOrganization", ctx)

    legal = el(root, "legalAuthenticator")
    el(legal, "time", value=cda_time(ctx.authenticated_at or ctx.effective_time))
    el(legal, "signatureCode", code="S")
    _assigned(legal, "assignedEntity", ctx.legal_authenticator or ctx.author, ctx)

    event = el(el(root, "documentationOf"), "serviceEvent", classCode="ACT")
    _code(event, "code", doc_type, "LOINC")
    el(el(event, "effectiveTime"), "low", value=service_start)
    performer = el(event, "performer", typeCode="PRF")
    _assigned(performer, "assignedEntity", ctx.author, ctx)

    if ctx.replaces is not None:
        related = el(root, "relatedDocument", typeCode="RPLC")
        parent = el(related, "parentDocument")
        prev_root, _, prev_ext = ctx.replaces.partition("^")
        el(parent, "id", root=prev_root, extension=prev_ext or None)

    encounter = el(el(root, "componentOf"), "encompassingEncounter")
    el(
        encounter,
        "code",
        code="AMB",
        displayName="Ambulatoire (hors établissement)",
        codeSystem=codes.ACT_CODE,
    )
    el(el(encounter, "effectiveTime"), "low", value=service_start)
    facility = el(el(encounter, "location"), "healthCareFacility")
    el(facility, "id", root=codes.STRUCT_IDNAT, extension=ctx.structure.idnst)
    sector = ctx.structure.activity_sector
    el(
        facility,
        "code",
        code=sector,
        displayName=codes.FACILITY_TYPES.get(sector, "Pharmacie d'officine"),
        codeSystem=codes.SECTEUR_ACTIVITE,
    )
    return root, doc_id, set_id


def _document(
    root, doc_id: str, set_id: str, ctx: DocumentContext, kind: str, title: str, media: str
) -> HealthDocument:
    return HealthDocument(
        id=doc_id,
        patient_id=ctx.patient.id,
        type_code=codes.DOCUMENT_TYPES[kind].code,
        title=title,
        content=to_bytes(root),
        media_type=media,
        set_id=set_id,
        version=ctx.version,
        replaces=ctx.replaces,
        status=DocumentStatus.DRAFT,
        created_at=ctx.effective_time,
        author_rpps=ctx.author.rpps,
        format_code=codes.FORMAT_CODES[kind],
        confidentiality=ctx.confidentiality,
    )


# -- note de vaccination (N3) --------------------------------------------------------------


def build_vaccination(vaccination: Vaccination, ctx: DocumentContext) -> BuildResult:
    """Build a note de vaccination (VAC-NOTE 2023.01) for one vaccination."""
    warnings: list[str] = []
    title = "NOTE DE VACCINATION"
    day = cda_date(vaccination.administered_on)
    root, doc_id, set_id = document_header(
        ctx,
        "vaccination",
        title,
        [
            (codes.TPL_HL7_FRANCE, None),
            (codes.TPL_CISIS, None),
            (codes.TPL_PCC_IMMUNIZATION, None),
            (codes.TPL_VAC_NOTE, codes.VAC_NOTE_VERSION),
        ],
        day,
        warnings,
    )
    body = el(el(root, "component"), "structuredBody")
    section = el(el(body, "component"), "section")
    for template in (
        "2.16.840.1.113883.10.20.1.6",
        "1.3.6.1.4.1.19376.1.5.3.1.3.23",
        "1.2.250.1.213.1.1.2.147",
    ):
        el(section, "templateId", root=template)
    el(section, "id", root=new_uuid())
    el(
        section,
        "code",
        code="11369-6",
        displayName="Historique des vaccinations",
        codeSystem=codes.LOINC,
        codeSystemName="LOINC",
    )
    el(section, "title", "Note de vaccination")
    _vaccination_narrative(section, vaccination, ctx)
    _vaccination_entry(section, vaccination, ctx, day)
    document = _document(root, doc_id, set_id, ctx, "vaccination", title, "text/xml")
    return BuildResult(document=document, kind="vaccination", warnings=tuple(warnings))


def _vaccination_narrative(section, vac: Vaccination, ctx: DocumentContext) -> None:
    text = el(section, "text")
    table = el(text, "table", border="0")
    head = el(el(table, "thead"), "tr")
    columns = [
        "Date",
        "Vaccin",
        "Lot n°",
        "Rang",
        "Voie d'administration",
        "Région d'administration",
        "Commentaire",
        "Vaccinateur",
    ]
    for column in columns:
        el(head, "th", column)
    row = el(el(table, "tbody"), "tr")
    el(row, "td", vac.administered_on.strftime("%d/%m/%Y"))
    el(el(row, "td"), "content", vac.vaccine.label, ID="vac-01")
    el(row, "td", vac.lot_number)
    el(row, "td", str(vac.dose_rank) if vac.dose_rank else "")
    el(row, "td", codes.ROUTES[vac.route] if vac.route else "")
    cell = el(row, "td")
    if vac.site:
        el(cell, "content", codes.APPROACH_SITES[vac.site], ID="vac-01-site")
    cell = el(row, "td")
    if vac.comment:
        el(cell, "content", vac.comment, ID="vac-01-comment")
    author = ctx.author
    label = specialty_of(author).display
    el(row, "td", f"{author.given_name} {author.family_name} ({label})")


def _vaccination_entry(section, vac: Vaccination, ctx: DocumentContext, day: str) -> None:
    sbadm = el(
        el(section, "entry"),
        "substanceAdministration",
        classCode="SBADM",
        moodCode="EVN",
        negationInd="false",
    )
    for template in (
        "2.16.840.1.113883.10.20.1.24",
        "1.3.6.1.4.1.19376.1.5.3.1.4.12",
        "1.2.250.1.213.1.1.3.45",
    ):
        el(sbadm, "templateId", root=template)
    el(sbadm, "id", root=new_uuid())
    act_code = codes.Code(vac.act, codes.ACT_CODE, codes.ACT_CODES[vac.act])
    _code(sbadm, "code", act_code, "ActSubstanceAdministrationImmunizationCode")
    el(el(sbadm, "text"), "reference", value="#vac-01")
    el(sbadm, "statusCode", code="completed")
    el(sbadm, "effectiveTime", value=day)
    if vac.route:
        route = codes.Code(vac.route, codes.EDQM, codes.ROUTES[vac.route])
        _code(sbadm, "routeCode", route, "EDQM")
    if vac.site:
        site_code = codes.Code(vac.site, codes.SNOMED, codes.APPROACH_SITES[vac.site])
        site = _code(sbadm, "approachSiteCode", site_code, "SNOMED CT")
        el(el(site, "originalText"), "reference", value="#vac-01-site")
    product = el(el(sbadm, "consumable", typeCode="CSM"), "manufacturedProduct")
    for template in (
        "2.16.840.1.113883.10.20.1.53",
        "1.3.6.1.4.1.19376.1.5.3.1.4.7.2",
        "1.2.250.1.213.1.1.3.43",
    ):
        el(product, "templateId", root=template)
    material = el(product, "manufacturedMaterial")
    vaccine = vac.vaccine
    code = _code(material, "code", codes.Code(vaccine.cis, codes.CIS, vaccine.label), "CIS")
    el(el(code, "originalText"), "reference", value="#vac-01")
    _code(code, "translation", codes.Code(vaccine.atc, codes.ATC, vaccine.atc_label), "ATC")
    if vaccine.cip13:
        cip = codes.Code(vaccine.cip13, codes.CIP, vaccine.label)
        _code(code, "translation", cip, "CIP")
    el(material, "name", vaccine.atc_label)
    el(material, "lotNumberText", vac.lot_number)
    performer = el(sbadm, "performer", typeCode="PRF")
    _assigned(performer, "assignedEntity", ctx.author, ctx, classCode="ASSIGNED")
    author = el(sbadm, "author", typeCode="AUT", contextControlCode="OP")
    el(author, "time", value=cda_time(ctx.effective_time))
    _assigned(author, "assignedAuthor", ctx.author, ctx, classCode="ASSIGNED")
    if vac.dose_rank is not None:
        obs = el(
            el(sbadm, "entryRelationship", typeCode="SUBJ"),
            "observation",
            classCode="OBS",
            moodCode="EVN",
        )
        el(obs, "templateId", root="2.16.840.1.113883.10.20.1.46")
        el(obs, "templateId", root="1.2.250.1.213.1.1.3.82")
        rank = codes.Code("30973-2", codes.LOINC, "Rang de la vaccination")
        _code(obs, "code", rank, "LOINC")
        el(obs, "statusCode", code="completed")
        el(obs, "value", xsi_type="INT", value=str(vac.dose_rank))
    if vac.comment:
        act = el(
            el(sbadm, "entryRelationship", typeCode="SUBJ"), "act", classCode="ACT", moodCode="EVN"
        )
        for template in (
            "2.16.840.1.113883.10.20.1.40",
            "1.3.6.1.4.1.19376.1.5.3.1.4.2",
            "1.2.250.1.213.1.1.3.32",
        ):
            el(act, "templateId", root=template)
        _code(act, "code", codes.Code("48767-8", codes.LOINC, "Commentaire"), "LOINC")
        text = el(act, "text")
        el(text, "reference", value="#vac-01-comment").tail = vac.comment
        el(act, "statusCode", code="completed")


# -- non-structured documents (N1, PDF) ----------------------------------------------------

N1_TEMPLATES = [(codes.TPL_HL7_FRANCE, None), (codes.TPL_CISIS, None), (codes.TPL_XDS_SD, None)]


def _build_n1(kind: str, title: str, held_on, ctx: DocumentContext, render) -> BuildResult:
    warnings: list[str] = []
    root, doc_id, set_id = document_header(
        ctx, kind, title, N1_TEMPLATES, cda_date(held_on), warnings
    )
    from segur_documents.pdf import render_pdf

    pdf, pdf_warnings = render_pdf(title, ctx, render)
    warnings.extend(pdf_warnings)
    body = el(el(root, "component"), "nonXMLBody")
    el(
        body,
        "text",
        base64.b64encode(pdf).decode("ascii"),
        mediaType="application/pdf",
        representation="B64",
    )
    document = _document(root, doc_id, set_id, ctx, kind, title, "text/xml")
    return BuildResult(document=document, kind=kind, warnings=tuple(warnings), pdf=pdf)


def build_entretien(entretien: Entretien, ctx: DocumentContext) -> BuildResult:
    """Build the compte-rendu of an entretien pharmaceutique (N1, PDF body)."""
    from segur_documents.pdf import entretien_content

    title = f"Compte rendu d'entretien pharmaceutique - {entretien.theme}"
    return _build_n1("entretien", title, entretien.held_on, ctx, entretien_content(entretien))


def build_bpm(bilan: BilanMedication, ctx: DocumentContext) -> BuildResult:
    """Build a bilan partagé de médication (N1, PDF body)."""
    from segur_documents.pdf import bpm_content

    title = "Bilan partagé de médication"
    return _build_n1("bpm", title, bilan.held_on, ctx, bpm_content(bilan))


def rebuild(document: HealthDocument, **changes) -> HealthDocument:
    """A copy of ``document`` with some fields changed (convenience for the lifecycle)."""
    return attrs.evolve(document, **changes)


def parse_own(document: HealthDocument) -> etree._Element:
    """Parse a document's bytes with the hardened parser."""
    from segur_core.safexml import parse_xml

    return parse_xml(document.content, max_bytes=MAX_XML_BYTES)
