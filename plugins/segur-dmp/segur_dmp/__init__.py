"""segur-dmp: the DMP (Mon Espace Santé) for pharmacy software.

Access check and authorisation (TD0.2/TD0.3), automatic feed of validated documents
(ITI-41 over MTOM with the signed submission set, through the outbox), consultation
(ITI-18/ITI-43), masking and deletion (ITI-57), the VIHF token, and a strict XDS.b
sandbox. See ``xds-dmp.md`` in the project reference for the facts it follows.
"""

from segur_dmp.client import DMPClient, Endpoints
from segur_dmp.config import DMPConfig
from segur_dmp.errors import (
    AccessRefused,
    DMPTransportError,
    MTOMError,
    RegistryError,
    RegistryErrorItem,
    SOAPFault,
    VIHFError,
)
from segur_dmp.hl7v3 import AccessStatus
from segur_dmp.metadata import Author, Code, DocumentEntry, SubmissionSet, entry_from_cda
from segur_dmp.mtom import Attachment, MTOMMessage, build_mtom, parse_mtom
from segur_dmp.service import DMPService, service_for
from segur_dmp.status import StatusStore
from segur_dmp.vihf import LPS, CPSSigner, Signer, StructureSigner, build_vihf

__all__ = [
    "LPS",
    "AccessRefused",
    "AccessStatus",
    "Attachment",
    "Author",
    "CPSSigner",
    "Code",
    "DMPClient",
    "DMPConfig",
    "DMPService",
    "DMPTransportError",
    "DocumentEntry",
    "Endpoints",
    "MTOMError",
    "MTOMMessage",
    "RegistryError",
    "RegistryErrorItem",
    "SOAPFault",
    "Signer",
    "StatusStore",
    "StructureSigner",
    "SubmissionSet",
    "VIHFError",
    "build_mtom",
    "build_vihf",
    "entry_from_cda",
    "parse_mtom",
    "service_for",
]
