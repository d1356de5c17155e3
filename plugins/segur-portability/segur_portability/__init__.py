"""segur-portability: the Ségur-perimeter data in a documented, signed, verifiable archive.

``PA<timestamp>.ZIP`` follows the ANS portability layout (PDLGC): README.TXT, a
MANIFEST.XML listing every archive with its size and SHA-256, a XAdES SIGN.XML, a data
dictionary in French and English generated from the sections' JSON Schemas, a
TRANSVERSE.ZIP and one IHE XDM archive per patient with PDF renderings and structured
data contributed by every plugin (``segur_export_sections``). It is written streamed,
verified (:func:`verify_archive`) and imported into another host (:func:`import_archive`).
See ``portability.md`` in the project reference.

Names are imported on first use: ``segur plugins`` imports :mod:`segur_portability.plugin`
without paying for lxml or jsonschema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segur_core.lazy import lazy_exports

if TYPE_CHECKING:
    from segur_portability.config import PortabilityConfig
    from segur_portability.errors import ArchiveError, ExportError, ImportRefused
    from segur_portability.importer import ImportResult, import_archive
    from segur_portability.verify import Problem, VerifyReport, verify_archive
    from segur_portability.writer import ExportResult, export_archive

__all__ = [
    "ArchiveError",
    "ExportError",
    "ExportResult",
    "ImportRefused",
    "ImportResult",
    "PortabilityConfig",
    "Problem",
    "VerifyReport",
    "export_archive",
    "import_archive",
    "verify_archive",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ArchiveError": "segur_portability.errors",
        "ExportError": "segur_portability.errors",
        "ImportRefused": "segur_portability.errors",
        "ExportResult": "segur_portability.writer",
        "export_archive": "segur_portability.writer",
        "ImportResult": "segur_portability.importer",
        "import_archive": "segur_portability.importer",
        "PortabilityConfig": "segur_portability.config",
        "Problem": "segur_portability.verify",
        "VerifyReport": "segur_portability.verify",
        "verify_archive": "segur_portability.verify",
    },
    globals(),
)
