"""The official INSi XSDs (``../shared/insi/wsdl/xsd``), loaded with local resolution only.

The schemas are reference data that segur never copies: they are found where
``SEGUR_INSI_DIR`` points, in an installed data package, or next to a source checkout
(``<repo>/../shared/insi``), as :mod:`segur_core.reference` says. The WSDL
imports WS-Addressing from a remote URL; nothing here fetches it: each message part
(body, ``ContexteLPS``, ``ContexteBAM``, ``wsse:Security``, ``siram:Erreur``) is validated
against its own schema, and ``wsa:MessageID``/``wsa:Action`` are checked by hand.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from segur_ins.insi.namespaces import NS

__all__ = ["SCHEMA_FILES", "insi_dir", "schema_for", "validate_part"]

#: Element (``{ns}local``) → schema file, relative to ``wsdl/xsd``.
SCHEMA_FILES = {
    f"{{{NS['recsans']}}}RECSANSVITALE": "ServiceIdentiteCertifiee/INSi_RECSANS_INS.xsd",
    f"{{{NS['recvit']}}}RECVITALE": "ServiceIdentiteCertifiee/INSi_RECVITALE_INS.xsd",
    f"{{{NS['resultat']}}}RESULTAT": "ServiceIdentiteCertifiee/INSi_RESULTAT_INS.xsd",
    f"{{{NS['ctxlps']}}}ContexteLPS": "CTX/ROOT_ctxlps_CTXLPS_V01_00.xsd",
    f"{{{NS['ctxbam']}}}ContexteBAM": "CTX/ROOT_ctxbam_CTXBAM_V01_02.xsd",
    f"{{{NS['wsse']}}}Security": "WSSE/Security.xsd",
    f"{{{NS['siram']}}}Erreur": "schema_faultSOAP_V01_01.xsd",
}


def insi_dir() -> Path | None:
    """The folder holding ``wsdl/`` and ``fixtures/``, or ``None`` when absent
    (``$SEGUR_INSI_DIR``, a data package, ``../shared/insi`` beside a checkout)."""
    from segur_core.reference import INSI_SCHEMAS, find_reference

    return find_reference(INSI_SCHEMAS)


@functools.cache
def _schema(relative: str) -> etree.XMLSchema | None:
    base = insi_dir()
    if base is None:
        return None
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(base / "wsdl" / "xsd" / relative), parser))


def schema_for(tag: str) -> etree.XMLSchema | None:
    """The compiled schema of a message part by its element tag, or ``None`` when the
    official schemas are not available or the tag is not a part."""
    relative = SCHEMA_FILES.get(tag)
    return _schema(relative) if relative else None


def validate_part(element: etree._Element) -> list[str]:
    """Validate one message part; the list of problems (empty: valid or no schema).

    Lxml validates a subtree as its own document, so the part is copied first.
    """
    schema = schema_for(element.tag)
    if schema is None:
        return []
    document = etree.ElementTree(_detached(element))
    if schema.validate(document):
        return []
    return [f"{error.line}: {error.message}" for error in schema.error_log][:10]


def _detached(element: etree._Element) -> etree._Element:
    import copy

    return copy.deepcopy(element)
