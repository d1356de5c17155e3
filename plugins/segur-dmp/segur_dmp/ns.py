"""XML namespaces, SOAP actions, ebRIM scheme UUIDs and DMP code systems (the XDS ones
are the core's, :mod:`segur_core.xds.ns`, re-exported).

Values come from ``xds-dmp.md`` of the project reference (IHE ITI TF-3 and the DMP
integration material it cites).
"""

from __future__ import annotations

from segur_core.xds.ns import NS as _XDS_NS
from segur_core.xds.ns import OID, UUID

__all__ = ["ACTION", "NS", "OID", "UUID"]

NS = {
    **_XDS_NS,
    "soap": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "xop": "http://www.w3.org/2004/08/xop/include",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "hl7": "urn:hl7-org:v3",
    "hab": "urn:si-dmp-habilitations",
    "xades": "http://uri.etsi.org/01903/v1.1.1#",
}


class ACTION:
    """SOAP actions (``wsa:Action``) of the DMP transactions."""

    ITI41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
    ITI41_RESPONSE = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
    ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
    ITI18_RESPONSE = "urn:ihe:iti:2007:RegistryStoredQueryResponse"
    ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"
    ITI43_RESPONSE = "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
    ITI57 = "urn:ihe:iti:2010:UpdateDocumentSet"
    ITI57_RESPONSE = "urn:ihe:iti:2010:UpdateDocumentSetResponse"
    TD02 = "urn:hl7-org:v3:PRPA_IN201307UV02"
    TD02_RESPONSE = "urn:hl7-org:v3:PRPA_IN201308UV02"
    TD03 = "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization"
    TD03_RESPONSE = "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorizationResponse"
