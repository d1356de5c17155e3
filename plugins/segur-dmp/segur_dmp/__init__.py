"""segur-dmp: the DMP (Mon Espace Santé) for pharmacy software.

Access check and authorisation (TD0.2/TD0.3), automatic feed of validated documents
(ITI-41 over MTOM with the signed submission set, through the outbox), consultation
(ITI-18/ITI-43), masking and deletion (ITI-57), the VIHF token, and a strict XDS.b
sandbox. See ``xds-dmp.md`` in the project reference for the facts it follows.

Names are imported on first use: ``segur plugins`` imports :mod:`segur_dmp.plugin`
without paying for httpx, lxml or signxml.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AccessRefused": "errors",
    "AccessStatus": "hl7v3",
    "Attachment": "mtom",
    "Author": "metadata",
    "CPSSigner": "vihf",
    "Code": "metadata",
    "DMPClient": "client",
    "DMPConfig": "config",
    "DMPService": "service",
    "DMPTransportError": "errors",
    "DocumentEntry": "metadata",
    "Endpoints": "client",
    "LPS": "vihf",
    "MTOMError": "errors",
    "MTOMMessage": "mtom",
    "MetadataLimitError": "hl7v2",
    "RegistryError": "errors",
    "RegistryErrorItem": "errors",
    "SOAPFault": "errors",
    "StatusStore": "status",
    "StructureSigner": "vihf",
    "VIHFSigner": "vihf",
    "SubmissionSet": "metadata",
    "VIHFError": "errors",
    "build_mtom": "mtom",
    "build_vihf": "vihf",
    "entry_from_cda": "metadata",
    "parse_mtom": "mtom",
    "service_for": "service",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'segur_dmp' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"segur_dmp.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
