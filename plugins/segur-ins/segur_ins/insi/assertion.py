"""The CPS-mode credential: a SAML 2.0 "assertion PS" signed with the holder's key.

In CPS mode ``wsse:Security`` carries an assertion whose ``Issuer`` is the CPS
certificate's subject, ``Subject/NameID`` (``NameQualifier="CPS"``) the holder's
identifier and whose attributes carry the billing identifier and activity sector. It is
signed (enveloped signature, exclusive C14N, RSA-SHA256) with the certificate in
``KeyInfo``.

Signing goes through the core's :class:`~segur_core.wire.Signer` protocol:
:class:`~segur_core.wire.KeySigner` signs with a key from a PKCS#12 file; a PKCS#11
implementation (the CPS card through the ANS Cryptolib) is an extension point that only
needs to implement the same protocol.
"""

from __future__ import annotations

import datetime as dt
import uuid

import attrs
from lxml import etree

from segur_core.wire.signing import Signer
from segur_ins.insi.namespaces import NS

__all__ = ["PSAssertionData", "build_ps_assertion"]

_X509_SUBJECT = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"


@attrs.frozen
class PSAssertionData:
    """What the PS assertion states: the CPS holder id (``8`` + RPPS), the billing
    identifier, the activity sector and, for physicians, the specialty code."""

    holder_id: str
    billing_id: str
    activity_sector: str = "SA33"
    specialty: str | None = None
    validity: dt.timedelta = dt.timedelta(minutes=5)


def _saml(parent, local: str, text: str | None = None, **attrib) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS['saml']}}}{local}", attrib)
    if text is not None:
        element.text = text
    return element


def _attribute(statement, name: str, value: str) -> None:
    attribute = _saml(statement, "Attribute", Name=name)
    _saml(attribute, "AttributeValue", value)


def build_ps_assertion(
    data: PSAssertionData, signer: Signer, *, now: dt.datetime | None = None
) -> etree._Element:
    """Build and sign the PS assertion for one INSi call."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    assertion_id = f"_{uuid.uuid4()}"
    assertion = etree.Element(
        f"{{{NS['saml']}}}Assertion",
        {"ID": assertion_id, "IssueInstant": stamp(now), "Version": "2.0"},
        nsmap={"saml": NS["saml"]},
    )
    _saml(assertion, "Issuer", signer.certificate.subject.rfc4514_string(), Format=_X509_SUBJECT)
    placeholder = etree.SubElement(
        assertion, f"{{{NS['ds']}}}Signature", {"Id": "placeholder"}, nsmap={"ds": NS["ds"]}
    )
    subject = _saml(assertion, "Subject")
    _saml(subject, "NameID", data.holder_id, NameQualifier="CPS")
    _saml(
        assertion,
        "Conditions",
        NotBefore=stamp(now - dt.timedelta(minutes=1)),
        NotOnOrAfter=stamp(now + data.validity),
    )
    authn = _saml(assertion, "AuthnStatement", AuthnInstant=stamp(now))
    context = _saml(authn, "AuthnContext")
    _saml(context, "AuthnContextClassRef", "urn:oasis:names:tc:SAML:2.0:ac:classes:X509")
    statement = _saml(assertion, "AttributeStatement")
    _attribute(statement, "identifiantFacturation", data.billing_id)
    _attribute(statement, "secteurActivite", data.activity_sector)
    if data.specialty:
        _attribute(statement, "codeSpecialite", data.specialty)
    del placeholder  # signxml fills the placeholder in place
    return signer.sign(assertion, reference_uri=f"#{assertion_id}", id_attribute="ID")
