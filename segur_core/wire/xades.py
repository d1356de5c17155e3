"""Detached XAdES signatures of a ``ds:Manifest`` (IHE DSG style): what a DMP submission
set and a portability archive both sign.

The ``ds:Signature`` references a ``ds:Manifest Id="IHEManifest"`` listing each signed
object (a URI and the SHA-256 of its bytes), an optional purpose of signature
(``ds:SignatureProperty Id="purposeOfSignature"``) and the XAdES (v1.1.1) signed
properties (signing time, signing certificate digest, implied policy). ``signxml``
computes and checks the XML signature; the manifest's digests are the caller's to
compare with the objects it holds (:class:`SignedManifest`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree

from segur_core.errors import SecurityError
from segur_core.safexml import parse_xml
from segur_core.wire.signing import Signer

__all__ = [
    "DS",
    "XADES",
    "SignatureError",
    "SignedManifest",
    "read_manifest_signature",
    "sha256_b64",
    "sign_manifest",
]

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.1.1#"
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
_IHE = "urn:ihe:iti:dsg:2009"
#: The largest signature document read (a portability archive's lists every archive).
MAX_SIGNATURE_BYTES = 256 * 1024 * 1024


class SignatureError(SecurityError):
    """A signature document is not a ``ds:Signature``, or its XML signature, its
    purpose or its signing certificate does not verify."""


@attrs.frozen
class SignedManifest:
    """What a verified signature document says: ``references`` maps each URI of the
    manifest to its base64 SHA-256 digest; ``certificate`` signed it."""

    references: dict[str, str] = attrs.field(repr=lambda v: f"<{len(v)} references>")
    certificate: x509.Certificate
    purpose: str | None = None
    signing_time: str | None = None


def _ds(tag: str) -> str:
    return f"{{{DS}}}{tag}"


def _x(tag: str) -> str:
    return f"{{{XADES}}}{tag}"


def sha256_b64(data: bytes) -> str:
    """The base64 SHA-256 of ``data``, as a ``ds:DigestValue`` holds it."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def sign_manifest(
    signer: Signer,
    references: Iterable[tuple[str, str]],
    *,
    purpose: str | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """The signature document (XML bytes) of ``references``: ``(uri, base64 SHA-256)``
    pairs, in order (read once), with ``purpose`` as the purpose of signature when given."""
    from signxml.signer import SignatureReference

    now = now or dt.datetime.now(dt.UTC)
    sig_id = f"SIG-{uuid.uuid4()}"
    holder = etree.Element("holder", nsmap={"ds": DS, "xades": XADES})

    obj = etree.SubElement(holder, _ds("Object"))
    manifest = etree.SubElement(obj, _ds("Manifest"), Id="IHEManifest")
    for uri, digest in references:
        ref = etree.SubElement(manifest, _ds("Reference"), URI=uri)
        etree.SubElement(ref, _ds("DigestMethod"), Algorithm=_SHA256)
        etree.SubElement(ref, _ds("DigestValue")).text = digest
    signed = [SignatureReference(URI="#IHEManifest")]

    if purpose is not None:
        obj = etree.SubElement(holder, _ds("Object"))
        props = etree.SubElement(obj, _ds("SignatureProperties"))
        prop = etree.SubElement(
            props, _ds("SignatureProperty"), Id="purposeOfSignature", Target=f"#{sig_id}"
        )
        # ds:SignatureProperty only admits foreign elements (xmldsig schema): the purpose
        # code goes in a child element.
        etree.SubElement(prop, f"{{{_IHE}}}PurposeOfSignature").text = purpose
        signed.append(SignatureReference(URI="#purposeOfSignature"))

    obj = etree.SubElement(holder, _ds("Object"))
    qp = etree.SubElement(obj, _x("QualifyingProperties"), Target=f"#{sig_id}")
    sp = etree.SubElement(qp, _x("SignedProperties"), Id="SignedProperties")
    ssp = etree.SubElement(sp, _x("SignedSignatureProperties"))
    etree.SubElement(ssp, _x("SigningTime")).text = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    cert = signer.certificate
    sc = etree.SubElement(etree.SubElement(ssp, _x("SigningCertificate")), _x("Cert"))
    cd = etree.SubElement(sc, _x("CertDigest"))
    etree.SubElement(cd, _x("DigestMethod"), Algorithm=_SHA256)
    etree.SubElement(cd, _x("DigestValue")).text = base64.b64encode(
        cert.fingerprint(hashes.SHA256())
    ).decode()
    serial = etree.SubElement(sc, _x("IssuerSerial"))
    etree.SubElement(serial, _ds("X509IssuerName")).text = cert.issuer.rfc4514_string()
    etree.SubElement(serial, _ds("X509SerialNumber")).text = str(cert.serial_number)
    policy = etree.SubElement(ssp, _x("SignaturePolicyIdentifier"))
    etree.SubElement(policy, _x("SignaturePolicyImplied"))
    signed.append(SignatureReference(URI="#SignedProperties"))

    sig = signer.sign(holder, detached=True, reference_uri=signed)
    sig.set("Id", sig_id)
    for child in list(holder):
        sig.append(child)
    return etree.tostring(sig, xml_declaration=True, encoding="UTF-8")


def _embedded_certificate(root: etree._Element) -> x509.Certificate:
    cert_b64 = root.findtext(f"{_ds('KeyInfo')}/{_ds('X509Data')}/{_ds('X509Certificate')}")
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join((cert_b64 or "").split())))
    except ValueError:
        raise SignatureError("the signature holds no readable signing certificate") from None


def read_manifest_signature(
    data: bytes,
    *,
    ca_pem_file: str | None = None,
    expect_purpose: str | None = None,
    max_bytes: int = MAX_SIGNATURE_BYTES,
) -> SignedManifest:
    """Check a signature document made by :func:`sign_manifest` and return its manifest.

    With ``ca_pem_file`` the signing certificate must chain to one of its CAs; without,
    the signature is checked against the certificate it carries (integrity, not trust:
    the caller shows who signed). Raises :class:`SignatureError` (or ``UnsafeXMLError``
    for hostile XML).
    """
    from signxml import SignatureConfiguration, XMLVerifier

    root = parse_xml(data, max_bytes=max_bytes)
    if root.tag != _ds("Signature"):
        raise SignatureError("the signature document is not a ds:Signature")
    purpose_el = root.find(f".//{_ds('SignatureProperty')}[@Id='purposeOfSignature']")
    purpose = "".join(purpose_el.itertext()).strip() if purpose_el is not None else None
    certificate = _embedded_certificate(root)
    try:
        XMLVerifier().verify(
            etree.fromstring(etree.tostring(root)),
            ca_pem_file=ca_pem_file,
            x509_cert=None if ca_pem_file else certificate,
            expect_config=SignatureConfiguration(
                expect_references=3 if purpose_el is not None else 2,
                require_x509=ca_pem_file is not None,
            ),
        )
    except Exception as exc:
        raise SignatureError(f"the signature is invalid: {exc}") from None
    if expect_purpose is not None and purpose != expect_purpose:
        raise SignatureError("the signature lacks its purpose")
    references = {
        r.get("URI", ""): (r.findtext(_ds("DigestValue")) or "").strip()
        for r in root.iterfind(f".//{_ds('Manifest')}[@Id='IHEManifest']/{_ds('Reference')}")
    }
    return SignedManifest(
        references=references,
        certificate=certificate,
        purpose=purpose,
        signing_time=root.findtext(f".//{_x('SigningTime')}"),
    )
