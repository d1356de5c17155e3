"""Namespaces, SOAP actions and fixed values of the INSi téléservice (WSDL 1.5.0)."""

from __future__ import annotations

__all__ = [
    "ACTION_TRAITS",
    "ACTION_VITALE",
    "BAM_VERSION",
    "LPS_VERSION",
    "NS",
    "OPERATIONS",
    "SAML_NS",
    "SOAP_CONTENT_TYPE",
]

#: Prefix → namespace, as the WSDL declares them.
NS = {
    "soap": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "ctxlps": "urn:siram:lps:ctxlps",
    "ctxbam": "urn:siram:bam:ctxbam",
    "siram": "urn:siram",
    "recsans": "http://www.cnamts.fr/INSiRecSans",
    "recvit": "http://www.cnamts.fr/INSiRecVit",
    "resultat": "http://www.cnamts.fr/INSiResultat",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}

SAML_NS = NS["saml"]

ACTION_VITALE = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecCarteVitale"
ACTION_TRAITS = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"

#: Operation name → (SOAP action, request body element as ``{ns}local``).
OPERATIONS = {
    "rechercherInsAvecCarteVitale": (ACTION_VITALE, f"{{{NS['recvit']}}}RECVITALE"),
    "rechercherInsAvecTraitsIdentite": (ACTION_TRAITS, f"{{{NS['recsans']}}}RECSANSVITALE"),
}

LPS_VERSION = "01_00"
BAM_VERSION = "01_02"

SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8; action="{action}"'
