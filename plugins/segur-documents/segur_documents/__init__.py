"""segur-documents: CI-SIS CDA R2 documents for a pharmacy.

Build the note de vaccination (VAC-NOTE 2023.01, structured), the compte-rendu
d'entretien pharmaceutique and the bilan partagé de médication (non-structured, PDF);
check them against the ANS kit (XSD and official schematrons); validate them through
their life cycle; read any received CDA document.
"""

from segur_documents.builders import NO_INS_WARNING, build_bpm, build_entretien, build_vaccination
from segur_documents.checks import ValidationReport, Validator
from segur_documents.config import DocumentsConfig
from segur_documents.models import (
    BilanMedication,
    BuildResult,
    DocumentContext,
    Entretien,
    MedicationLine,
    TextSection,
    Vaccination,
    Vaccine,
)
from segur_documents.reader import CdaDocument, read_cda
from segur_documents.service import DocumentService

__version__ = "0.1.0"

__all__ = [
    "NO_INS_WARNING",
    "BilanMedication",
    "BuildResult",
    "CdaDocument",
    "DocumentContext",
    "DocumentService",
    "DocumentsConfig",
    "Entretien",
    "MedicationLine",
    "TextSection",
    "Vaccination",
    "Vaccine",
    "ValidationReport",
    "Validator",
    "__version__",
    "build_bpm",
    "build_entretien",
    "build_vaccination",
    "read_cda",
]
