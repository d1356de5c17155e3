"""segur-documents: CI-SIS CDA R2 documents for a pharmacy.

Build the note de vaccination (VAC-NOTE 2023.01, structured), the compte-rendu
d'entretien pharmaceutique and the bilan partagé de médication (non-structured, PDF);
check them against the ANS kit (XSD and official schematrons); validate them through
their life cycle; render a structured one as PDF/A once and keep it; read any received
CDA document.

Names are imported on first use, so that loading the plugin (``segur plugins``) does
not import lxml, fpdf2 or Saxon.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "NO_INS_WARNING": "segur_documents.builders",
    "build_bpm": "segur_documents.builders",
    "build_entretien": "segur_documents.builders",
    "build_vaccination": "segur_documents.builders",
    "ValidationReport": "segur_documents.checks",
    "Validator": "segur_documents.checks",
    "DocumentsConfig": "segur_documents.config",
    "Renderer": "segur_documents.display",
    "RenderingError": "segur_documents.display",
    "BilanMedication": "segur_documents.models",
    "BuildResult": "segur_documents.models",
    "DocumentContext": "segur_documents.models",
    "Entretien": "segur_documents.models",
    "MedicationLine": "segur_documents.models",
    "TextSection": "segur_documents.models",
    "Vaccination": "segur_documents.models",
    "Vaccine": "segur_documents.models",
    "CdaDocument": "segur_documents.reader",
    "read_cda": "segur_documents.reader",
    "RenderingStore": "segur_documents.renderings",
    "keep_rendering": "segur_documents.renderings",
    "DocumentService": "segur_documents.service",
}

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
    "Renderer",
    "RenderingError",
    "RenderingStore",
    "TextSection",
    "Vaccination",
    "Vaccine",
    "ValidationReport",
    "Validator",
    "__version__",
    "build_bpm",
    "build_entretien",
    "build_vaccination",
    "keep_rendering",
    "read_cda",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'segur_documents' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from segur_documents.builders import (
        NO_INS_WARNING,
        build_bpm,
        build_entretien,
        build_vaccination,
    )
    from segur_documents.checks import ValidationReport, Validator
    from segur_documents.config import DocumentsConfig
    from segur_documents.display import Renderer, RenderingError
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
    from segur_documents.renderings import RenderingStore, keep_rendering
    from segur_documents.service import DocumentService
