"""Codes, OIDs and small value sets used by the CI-SIS documents this plugin writes.

Values come from the CI-SIS value sets (JDV) of the ANS test kit; only the subsets a
pharmacy needs are listed here, so that building a document never needs the kit.
"""

from __future__ import annotations

__all__ = [
    "ACT_CODES",
    "APPROACH_SITES",
    "AUTHOR_SPECIALTIES",
    "DOCUMENT_TYPES",
    "INS_OIDS",
    "ROUTES",
    "SEX_CODES",
    "Code",
]

from typing import NamedTuple


class Code(NamedTuple):
    """A coded value: code, code system OID, display name."""

    code: str
    system: str
    display: str


# code systems
LOINC = "2.16.840.1.113883.6.1"
SNOMED = "2.16.840.1.113883.6.96"
ATC = "2.16.840.1.113883.6.73"
CIS = "1.2.250.1.213.2.3.1"
CIP = "1.2.250.1.213.2.3.2"
EDQM = "0.4.0.127.0.16.1.1.2.1"
CIM10 = "2.16.840.1.113883.6.3"
ACT_CODE = "2.16.840.1.113883.5.4"
GENDER = "2.16.840.1.113883.5.1"
CONFIDENTIALITY = "2.16.840.1.113883.5.25"
PROFESSION_SAVFAIRE = "1.2.250.1.213.1.1.4.5"
SECTEUR_ACTIVITE = "1.2.250.1.71.4.2.4"
CADRE_EXERCICE = "1.2.250.1.213.1.1.4.9"

# identifier roots
PS_IDNAT = "1.2.250.1.71.4.2.1"
STRUCT_IDNAT = "1.2.250.1.71.4.2.2"
INS_OIDS = frozenset(
    {"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"}
)

# template ids
TPL_HL7_FRANCE = "2.16.840.1.113883.2.8.2.1"
TPL_CISIS = "1.2.250.1.213.1.1.1.1"
TPL_XDS_SD = "1.3.6.1.4.1.19376.1.2.20"
TPL_PCC_IMMUNIZATION = "1.3.6.1.4.1.19376.1.5.3.1.1.18.1.2"
TPL_VAC_NOTE = "1.2.250.1.213.1.1.1.46"
VAC_NOTE_VERSION = "2023.01"

#: Document types written by this plugin (LOINC, display names of JDV_J07).
DOCUMENT_TYPES = {
    "vaccination": Code("87273-9", LOINC, "Note de vaccination"),
    "entretien": Code("78601-2", LOINC, "CR d'entretien pharmaceutique"),
    "bpm": Code("56445-0", LOINC, "Bilan médicamenteux (Officine)"),
    "edisp": Code("60593-1", LOINC, "Dispensation médicamenteuse"),
}

FORMAT_CODES = {
    "vaccination": "urn:asip:ci-sis:vac-note:2021",
    "entretien": "urn:ihe:iti:xds-sd:pdf:2008",
    "bpm": "urn:ihe:iti:xds-sd:pdf:2008",
    "edisp": "urn:ihe:pharm:dis:2010",
}

#: Author specialties of JDV_J01 a pharmacy uses (TRE_A02, ``G15_21`` pharmacien).
AUTHOR_SPECIALTIES = {
    "G15_21": "Pharmacien",
    "G15_21/A": "Pharmacien titulaire d'officine",
    "G15_21/D": "Pharmacien adjoint, remplaçant ou gérant",
    "G15_21/DA": "Pharmacien adjoint",
    "G15_21/DM": "Pharmacien mutualiste ou minier",
    "G15_21/E": "Pharmacien d'Outre-Mer",
    "G15_21/EA": "Pharmacien titulaire d'officine - OM",
    "G15_21/ED": "Pharmacien adjoint - OM",
    "G15_21/G": "Pharmacien biologiste",
    "G15_21/H": "Pharmacien d'établissement de santé",
    "G15_10": "Médecin",
    "G15_10/SM26": "Médecin - Qualifié en Médecine Générale (SM)",
    "G15_60": "Infirmier",
    "G15_50": "Sage-Femme",
}

#: Healthcare facility types (JDV_J02, TRE_R02).
FACILITY_TYPES = {
    "SA33": "Pharmacie d'officine",
    "SA38": "Pharmacie minière",
    "SA39": "Pharmacie mutualiste",
    "SA56": "Propharmacie",
}

#: Type d'acte de vaccination (JDV_HL7_ActSubstanceAdministrationImmunizationCode_CISIS).
ACT_CODES = {
    "BOOSTER": "Rappel de vaccin",
    "IMMUNIZ": "Vaccination sans autre précision",
    "INITIMMUNIZ": "1ère série vaccinante",
}

#: Routes (JDV_ImmunizationRouteCodes_CISIS, EDQM).
ROUTES = {
    "20035000": "Voie intramusculaire",
    "20030000": "Voie intradermique",
    "20020000": "Voie inhalée",
    "20053000": "Voie orale",
    "20066000": "Voie sous-cutanée",
}

#: Approach sites (JDV_ImmunizationApproachSiteCode_CISIS, SNOMED CT).
APPROACH_SITES = {
    "64262003": "avant-bras droit",
    "66480008": "avant-bras gauche",
    "16217661000119109": "deltoïde droit",
    "16217701000119102": "deltoïde gauche",
    "91774008": "épaule droite",
    "91775009": "épaule gauche",
    "11207009": "cuisse droite",
    "61396006": "cuisse gauche",
    "723980000": "fesse droite",
    "723979003": "fesse gauche",
}

#: Administrative gender (JDV_J143): segur's ``I`` (indéterminé) is HL7 ``UN``.
SEX_CODES = {"M": ("M", "Masculin"), "F": ("F", "Féminin"), "I": ("UN", "Inconnu")}
