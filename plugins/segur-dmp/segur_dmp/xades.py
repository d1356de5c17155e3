"""The DMP signature document of a submission (IHE DSG style, reference ``xds-dmp.md``
§5.5): a ``ds:Signature`` whose ``ds:Manifest Id="IHEManifest"`` references the submission
set (``urn:oid:<uniqueId>``) and each document (digest of its bytes), with the purpose of
signature and XAdES (v1.1.1) qualifying properties. ``signxml`` computes and checks the
XML signature; the manifest digests are checked here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree

from segur_core.safexml import parse_xml
from segur_core.wire.signing import Signer
from segur_dmp.errors import VIHFError
from segur_dmp.mtom import MAX_XML_BYTES
from segur_dmp.ns import NS

__all__ = ["PURPOSE_OF_SIGNATURE", "sign_submission", "verify_submission_signature"]

DS = NS["ds"]
XADES = NS["xades"]
PURPOSE_OF_SIGNATURE = "1.2.840.10065.1.12.1.14"
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
_IHE = "urn:ihe:iti:dsg:2009"


def _ds(tag: str) -> str:
    return f"{{{DS}}}{tag}"


def _x(tag: str) -> str:
    return f"{{{XADES}}}{tag}"


def _b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def sign_submission(
    signer: Signer,
    *,
    submission_set_uid: str,
    documents: Sequence[tuple[str, bytes]],
    now: dt.datetime | None = None,
) -> bytes:
    """The signature document (XML bytes) of one submission set and its documents."""
    from signxml.signer import SignatureReference

    now = now or dt.datetime.now(dt.UTC)
    sig_id = f"SIG-{uuid.uuid4()}"
    holder = etree.Element("holder", nsmap={"ds": DS, "xades": XADES})

    obj = etree.SubElement(holder, _ds("Object"))
    manifest = etree.SubElement(obj, _ds("Manifest"), Id="IHEManifest")
    entries = [(submission_set_uid, None), *documents]
    for uid, content in entries:
        ref = etree.SubElement(manifest, _ds("Reference"), URI=f"urn:oid:{uid}")
        etree.SubElement(ref, _ds("DigestMethod"), Algorithm=_SHA256)
        digest = _b64_sha256(content if content is not None else uid.encode())
        etree.SubElement(ref, _ds("DigestValue")).text = digest

    obj = etree.SubElement(holder, _ds("Object"))
    props = etree.SubElement(obj, _ds("SignatureProperties"))
    prop = etree.SubElement(
        props, _ds("SignatureProperty"), Id="purposeOfSignature", Target=f"#{sig_id}"
    )
    # ds:SignatureProperty only admits foreign elements (xmldsig schema): the purpose code
    # goes in a child element.
    etree.SubElement(prop, f"{{{_IHE}}}PurposeOfSignature").text = PURPOSE_OF_SIGNATURE

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

    sig = signer.sign(
        holder,
        detached=True,
        reference_uri=[
            SignatureReference(URI="#IHEManifest"),
            SignatureReference(URI="#purposeOfSignature"),
            SignatureReference(URI="#SignedProperties"),
        ],
    )
    sig.set("Id", sig_id)
    for child in list(holder):
        sig.append(child)
    return etree.tostring(sig, xml_declaration=True, encoding="UTF-8")


def verify_submission_signature(
    data: bytes,
    *,
    ca_pem_file: str,
    submission_set_uid: str,
    documents: Mapping[str, bytes],
) -> x509.Certificate:
    """Check a signature document: the XML signature (chain to ``ca_pem_file``), the
    purpose, and that the manifest covers exactly this submission set and these
    documents with matching digests. Returns the signer certificate."""
    from signxml import SignatureConfiguration, XMLVerifier

    root = parse_xml(data, max_bytes=MAX_XML_BYTES)
    if root.tag != _ds("Signature"):
        raise VIHFError("the signature document is not a ds:Signature")
    try:
        XMLVerifier().verify(
            etree.fromstring(etree.tostring(root)),
            ca_pem_file=ca_pem_file,
            expect_config=SignatureConfiguration(expect_references=3, require_x509=True),
        )
    except Exception as exc:
        raise VIHFError(f"the submission set signature is invalid: {exc}") from None
    purpose = root.find(f".//{_ds('SignatureProperty')}[@Id='purposeOfSignature']")
    if purpose is None or "".join(purpose.itertext()).strip() != PURPOSE_OF_SIGNATURE:
        raise VIHFError("the submission set signature lacks its purpose (Source)")
    refs = {
        r.get("URI", ""): (r.findtext(_ds("DigestValue")) or "").strip()
        for r in root.iterfind(f".//{_ds('Manifest')}[@Id='IHEManifest']/{_ds('Reference')}")
    }
    expected = {f"urn:oid:{submission_set_uid}": _b64_sha256(submission_set_uid.encode())}
    expected.update({f"urn:oid:{uid}": _b64_sha256(body) for uid, body in documents.items()})
    if refs != expected:
        raise VIHFError("the signature manifest does not match the submitted documents")
    cert_b64 = root.findtext(f"{_ds('KeyInfo')}/{_ds('X509Data')}/{_ds('X509Certificate')}") or ""
    return x509.load_der_x509_certificate(base64.b64decode("".join(cert_b64.split())))
