"""The CPS-mode credential: a SAML 2.0 "assertion PS" signed with the holder's key.

In CPS mode ``wsse:Security`` carries an assertion whose ``Issuer`` is the CPS
certificate's subject, ``Subject/NameID`` (``NameQualifier="CPS"``) the holder's
identifier and whose attributes carry the billing identifier and activity sector. It is
signed (enveloped signature, exclusive C14N, RSA-SHA256) with the certificate in
``KeyInfo``.

Signing goes through the :class:`Signer` protocol: :class:`PKCS12Signer` signs with a
key from a PKCS#12 file; a PKCS#11 implementation (the CPS card through the ANS
Cryptolib) is an extension point that only needs to implement the same protocol.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

from segur_core.errors import TLSConfigError
from segur_ins.insi.namespaces import NS

__all__ = ["PKCS12Signer", "PSAssertionData", "Signer", "build_ps_assertion"]

_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_X509_SUBJECT = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"


@runtime_checkable
class Signer(Protocol):
    """Signs an XML element (enveloped signature over the element with ``ID``)."""

    @property
    def certificate(self) -> x509.Certificate:
        """The signing certificate (its subject becomes the assertion's issuer)."""
        ...

    def sign(self, element: etree._Element, reference_id: str) -> etree._Element:
        """Return ``element`` signed, the ``ds:Signature`` in place of the placeholder."""
        ...


class PKCS12Signer:
    """A :class:`Signer` holding a private key and certificate from a PKCS#12 file."""

    def __init__(self, key, certificate: x509.Certificate, chain: tuple = ()) -> None:
        self._key = key
        self._certificate = certificate
        self._chain = tuple(chain)

    @classmethod
    def load(cls, path: str | Path, password: bytes | None = None) -> PKCS12Signer:
        """Load a PKCS#12 file; raises :class:`TLSConfigError` when it is unusable."""
        try:
            key, cert, chain = pkcs12.load_key_and_certificates(Path(path).read_bytes(), password)
        except (OSError, ValueError) as exc:
            raise TLSConfigError(
                f"cannot load the signing PKCS#12 {Path(path).name}: {type(exc).__name__}",
                hint="check the file path and its password",
            ) from exc
        if key is None or cert is None:
            raise TLSConfigError(f"{Path(path).name} holds no key or no certificate")
        return cls(key, cert, tuple(chain or ()))

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    def sign(self, element: etree._Element, reference_id: str) -> etree._Element:
        from cryptography.hazmat.primitives.asymmetric import ec
        from signxml import XMLSigner, methods

        # CPS cards hold RSA keys (rsa-sha256); EC keys (test PKIs) sign with ecdsa-sha256
        algorithm = "ecdsa-sha256" if isinstance(self._key, ec.EllipticCurvePrivateKey) else (
            "rsa-sha256")  # fmt: skip
        signer = XMLSigner(
            method=methods.enveloped,
            signature_algorithm=algorithm,
            digest_algorithm="sha256",
            c14n_algorithm=_EXC_C14N,
        )
        cert_pem = self._certificate.public_bytes(serialization.Encoding.PEM).decode()
        return signer.sign(
            element,
            key=self._key,
            cert=cert_pem,
            reference_uri=f"#{reference_id}",
            id_attribute="ID",
        )


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
    return signer.sign(assertion, assertion_id)
