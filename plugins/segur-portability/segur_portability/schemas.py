"""The JSON Schemas (draft 2020-12) of the sections this plugin exports itself: the
host's data (patient identity, documents' metadata, dispensations, consents), the audit
records of each patient, and the structure.

Every file of a section is a JSON array of records. Each property says what it holds in
English (``title``, ``description``) and French (``x-title-fr``, ``x-description-fr``);
the data dictionary is generated from them. ``null`` is "not filled in"; ``false`` or an
empty list is a negative answer (checked, and none).
"""

from __future__ import annotations

from segur_core.exportdata import DATETIME as _DATETIME
from segur_core.exportdata import array_of, obj, prop

__all__ = [
    "AUDIT",
    "CONSENTS",
    "CONSENT_HISTORY",
    "DISPENSATIONS",
    "DOCUMENTS",
    "PATIENT",
    "STRUCTURE",
    "array_of",
    "prop",
]

_INS = obj(
    {
        "matricule": prop(
            "string", "Matricule: NIR or NIA, 15 characters", "Matricule: NIR ou NIA, 15 caractères"
        ),
        "oid": prop(
            "string",
            "Authority: OID of the assigning authority",
            "Autorité: OID de l'autorité d'affectation",
        ),
    }
)

PATIENT = array_of(
    "patient",
    "Patient: the patient's identity as the pharmacy holds it (one record)",
    "Patient: l'identité du patient telle que la pharmacie la détient (un enregistrement)",
    obj(
        {
            "id": prop("string", "Local identifier: the software's own", "Identifiant local"),
            "identity": prop(
                obj(
                    {
                        "traits": prop(
                            obj(
                                {
                                    "birth_name": prop("string", "Birth name", "Nom de naissance"),
                                    "first_names": prop(
                                        {"type": "array", "items": {"type": "string"}},
                                        "Birth first names: in order",
                                        "Prénoms de naissance: dans l'ordre",
                                    ),
                                    "sex": prop(
                                        {"enum": ["M", "F", "I"]},
                                        "Sex: M, F or I (unknown)",
                                        "Sexe: M, F ou I (indéterminé)",
                                    ),
                                    "birth_date": prop(
                                        {
                                            "type": "string",
                                            "pattern": r"^\d{4}-\d{2}-\d{2}$",
                                        },
                                        "Birth date: YYYY-MM-DD, 00 for an unknown month or day",
                                        "Date de naissance: AAAA-MM-JJ, 00 pour un mois ou "
                                        "un jour inconnu",
                                    ),
                                    "birth_place": prop(
                                        "string",
                                        "Birth place: INSEE code of the commune or 99xxx "
                                        "for a country",
                                        "Lieu de naissance: code INSEE de la commune ou "
                                        "99xxx pour un pays",
                                        nullable=True,
                                    ),
                                    "used_name": prop(
                                        "string", "Used name", "Nom utilisé", nullable=True
                                    ),
                                    "used_first_name": prop(
                                        "string",
                                        "Used first name",
                                        "Prénom utilisé",
                                        nullable=True,
                                    ),
                                }
                            ),
                            "Identity traits",
                            "Traits d'identité",
                        ),
                        "status": prop(
                            {"enum": ["PROV", "RECUP", "VALI", "QUAL"]},
                            "INS identity status: RNIV status (provisional, recovered, "
                            "validated, qualified)",
                            "Statut de l'identité INS: statut RNIV (provisoire, récupérée, "
                            "validée, qualifiée)",
                        ),
                        "ins": prop(
                            _INS,
                            "Current INS",
                            "INS courant",
                            nullable=True,
                        ),
                        "attributes": prop(
                            {
                                "type": "array",
                                "items": {"enum": ["douteuse", "fictive", "homonyme"]},
                            },
                            "Identity attributes: RNIV attributes (doubtful, fictitious, "
                            "homonym); empty: none",
                            "Attributs de l'identité: attributs RNIV (douteuse, fictive, "
                            "homonyme); vide: aucun",
                        ),
                        "ins_history": prop(
                            {"type": "array", "items": _INS},
                            "INS history: INS the patient had before the current one; empty: none",
                            "Historique de l'INS: INS portés avant l'INS courant; vide: aucun",
                        ),
                        "updated_at": prop(
                            _DATETIME,
                            "Identity updated at",
                            "Identité mise à jour le",
                            nullable=True,
                        ),
                    }
                ),
                "Identity",
                "Identité",
            ),
            "email": prop("string", "E-mail", "Courriel", nullable=True),
            "phone": prop("string", "Phone", "Téléphone", nullable=True),
            "mssante_address": prop(
                "string",
                "MSSanté address: the patient's Mon Espace Santé mailbox",
                "Adresse MSSanté: messagerie Mon Espace Santé du patient",
                nullable=True,
            ),
        }
    ),
)

DOCUMENTS = array_of(
    "docs",
    "Documents: every health document produced or received, its metadata and its file",
    "Documents: chaque document de santé produit ou reçu, ses métadonnées et son fichier",
    obj(
        {
            "id": prop("string", "Document id: root^extension of the CDA id", "Identifiant"),
            "type_code": prop("string", "Type: LOINC code", "Type: code LOINC"),
            "title": prop("string", "Title", "Titre"),
            "media_type": prop("string", "Media type", "Type de média"),
            "set_id": prop(
                "string", "Set id: series of versions", "Identifiant de lot", nullable=True
            ),
            "version": prop("integer", "Version", "Version"),
            "replaces": prop(
                "string",
                "Replaces: id of the version it replaces",
                "Remplace: identifiant de la version remplacée",
                nullable=True,
            ),
            "status": prop(
                {"enum": ["draft", "validated", "replaced", "received"]},
                "Status: draft, validated, replaced or received",
                "Statut: brouillon, validé, remplacé ou reçu",
            ),
            "created_at": prop(_DATETIME, "Created at", "Créé le"),
            "author_rpps": prop("string", "Author's RPPS", "RPPS de l'auteur", nullable=True),
            "format_code": prop("string", "Format code", "Code de format", nullable=True),
            "confidentiality": prop(
                "string", "Confidentiality: HL7 code", "Confidentialité: code HL7"
            ),
            "size": prop("integer", "Size: bytes", "Taille: octets"),
            "sha256": prop("string", "SHA-256 of the file", "SHA-256 du fichier"),
            "file": prop(
                "string",
                "File: its path in the patient's archive, as is",
                "Fichier: son chemin dans l'archive du patient, tel quel",
            ),
            "pdf": prop(
                "string",
                "PDF rendering: its path; null when the document carries none",
                "Rendu PDF: son chemin; null quand le document n'en porte pas",
                nullable=True,
            ),
        }
    ),
)

DISPENSATIONS = array_of(
    "dispens",
    "Dispensations: what was dispensed to the patient in this pharmacy",
    "Dispensations: ce qui a été délivré au patient dans cette pharmacie",
    obj(
        {
            "patient_id": prop("string", "Patient (local id)", "Patient (identifiant local)"),
            "dispensed_at": prop(_DATETIME, "Dispensed at", "Délivré le"),
            "product_code": prop("string", "Product: CIP13 code", "Produit: code CIP13"),
            "label": prop("string", "Label", "Libellé"),
            "quantity": prop("integer", "Quantity", "Quantité"),
            "prescription_id": prop(
                "string",
                "Prescription: the e-prescription's id",
                "Prescription: identifiant de l'ordonnance numérique",
                nullable=True,
            ),
            "pharmacy_finess": prop(
                "string", "Pharmacy's FINESS", "FINESS de la pharmacie", nullable=True
            ),
        }
    ),
)

CONSENTS = array_of(
    "consents",
    "Consents: the latest consent or opposition the patient expressed for each purpose",
    "Consentements: le dernier consentement ou la dernière opposition du patient pour "
    "chaque finalité",
    obj(
        {
            "patient_id": prop("string", "Patient (local id)", "Patient (identifiant local)"),
            "purpose": prop(
                "string",
                "Purpose: dmp-access, dp...",
                "Finalité: dmp-access, dp...",
            ),
            "granted": prop(
                "boolean",
                "Granted: true consent, false opposition (a negative answer)",
                "Accordé: true consentement, false opposition (réponse négative)",
            ),
            "recorded_at": prop(_DATETIME, "Recorded at", "Enregistré le"),
            "recorded_by": prop("string", "Recorded by", "Enregistré par", nullable=True),
            "note": prop("string", "Note", "Note", nullable=True),
        }
    ),
)

CONSENT_HISTORY = array_of(
    "conshist",
    "Consent history: every consent or opposition the patient expressed, purpose by "
    "purpose, in the order recorded (the host's records, else the changes recorded "
    "through segur, from its journal)",
    "Historique des consentements: chaque consentement ou opposition exprimé par le "
    "patient, finalité par finalité, dans l'ordre de l'enregistrement (les "
    "enregistrements de l'hôte, sinon les changements enregistrés par segur, d'après son "
    "journal)",
    obj(
        {
            "patient_id": prop("string", "Patient (local id)", "Patient (identifiant local)"),
            "purpose": prop("string", "Purpose: dmp-access, dp...", "Finalité: dmp-access, dp..."),
            "granted": prop(
                "boolean",
                "Granted: true consent, false opposition (a negative answer)",
                "Accordé: true consentement, false opposition (réponse négative)",
            ),
            "recorded_at": prop(
                _DATETIME,
                "Recorded at: null only for a damaged journal record",
                "Enregistré le: null seulement pour un enregistrement du journal endommagé",
                nullable=True,
            ),
            "recorded_by": prop("string", "Recorded by", "Enregistré par", nullable=True),
            "note": prop("string", "Note", "Note", nullable=True),
            "source": prop(
                "string",
                "Source: host (the host's record) or journal (a change recorded through segur)",
                "Source: host (enregistrement de l'hôte) ou journal (changement enregistré "
                "par segur)",
                enum=["host", "journal"],
            ),
        }
    ),
    informational=True,
)

AUDIT = array_of(
    "audit",
    "Audit records: every access to the patient's data and every call to a national "
    "service about them (hash-chained journal)",
    "Traces d'audit: chaque accès aux données du patient et chaque appel à un service "
    "national le concernant (journal chaîné)",
    obj(
        {
            "seq": prop("integer", "Sequence number", "Numéro d'ordre"),
            "at": prop(_DATETIME, "At", "Date", nullable=True),
            "action": prop("string", "Action", "Action"),
            "outcome": prop("string", "Outcome", "Résultat"),
            "service": prop("string", "Service", "Service", nullable=True),
            "patient_id": prop(
                "string", "Patient (local id)", "Patient (identifiant local)", nullable=True
            ),
            "actor": prop("string", "Actor", "Acteur", nullable=True),
            "details": prop({"type": "object"}, "Details", "Détails"),
            "prev_hash": prop("string", "Previous hash", "Empreinte précédente"),
            "hash": prop("string", "Hash: chains the record", "Empreinte: chaîne l'enregistrement"),
            "damaged": prop(
                {"type": "array", "items": {"type": "string"}},
                "Damaged: what could not be read back (absent: nothing)",
                "Endommagé: ce qui n'a pu être relu (absent: rien)",
            ),
        },
    ),
    informational=True,
)
AUDIT["items"]["required"].remove("damaged")

STRUCTURE = array_of(
    "struct",
    "Structure: the pharmacy and the pharmacist who made the export (one record)",
    "Structure: la pharmacie et le pharmacien auteur de l'export (un enregistrement)",
    obj(
        {
            "structure": prop({"type": "object"}, "Pharmacy", "Pharmacie"),
            "practitioner": prop({"type": "object"}, "Pharmacist", "Pharmacien"),
        }
    ),
)
