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
import functools
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree

from segur_core.errors import SecurityError
from segur_core.safexml import iter_xml
from segur_core.wire.signing import EXC_C14N, Signer

__all__ = [
    "DS",
    "XADES",
    "SignatureError",
    "SignedManifest",
    "check_manifest_signature",
    "read_manifest_signature",
    "sha256_b64",
    "sign_manifest",
    "write_manifest_signature",
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
    pairs, in order, with ``purpose`` as the purpose of signature when given."""
    listed = list(references)
    out = io.BytesIO()
    write_manifest_signature(out, signer, lambda: listed, purpose=purpose, now=now)
    return out.getvalue()


def write_manifest_signature(
    out: IO[bytes],
    signer: Signer,
    references: Callable[[], Iterable[tuple[str, str]]],
    *,
    purpose: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """:func:`sign_manifest` written to ``out``, ``references()`` read twice (for the
    manifest's digest, then to write it) and never held: a portability archive's
    manifest lists every patient's archive. The manifest's canonical form (exclusive
    C14N) is made here, a reference at a time, rather than by ``signxml``."""
    from signxml.signer import SignatureReference

    head, (before_uri, before_digest, after_digest), tail = _manifest_template()

    def canonical() -> Iterator[bytes]:
        for uri, digest in references():
            yield b"".join(
                (before_uri, _attribute(uri), before_digest, _text(digest), after_digest)
            )

    manifest_digest = hashlib.sha256(head)
    for reference in canonical():
        manifest_digest.update(reference)
    manifest_digest.update(tail)

    now = now or dt.datetime.now(dt.UTC)
    sig_id = f"SIG-{uuid.uuid4()}"
    holder = etree.Element("holder", nsmap={"ds": DS, "xades": XADES})

    obj = etree.SubElement(holder, _ds("Object"))
    etree.SubElement(obj, _ds("Manifest"), Id=_MANIFEST_ID)  # stands for it: written below
    signed = [SignatureReference(URI=f"#{_MANIFEST_ID}")]

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

    sig = signer.sign(
        holder,
        detached=True,
        reference_uri=signed,
        digests={f"#{_MANIFEST_ID}": manifest_digest.digest()},
    )
    sig.set("Id", sig_id)
    for child in list(holder):
        sig.append(child)
    document = etree.tostring(sig, xml_declaration=True, encoding="UTF-8")
    empty = f'<ds:Manifest Id="{_MANIFEST_ID}"/>'.encode()
    if document.count(empty) != 1:  # pragma: no cover - lxml writes an empty element so
        raise SignatureError("the signature's manifest cannot be written")
    first, last = document.split(empty)
    out.write(first + empty[:-2] + b">")
    for reference in canonical():
        out.write(reference)
    out.write(b"</ds:Manifest>" + last)


_MANIFEST_ID = "IHEManifest"
_URI, _DIGEST = "urn:placeholder:uri", "placeholder-digest"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@functools.cache
def _manifest_template() -> tuple[bytes, tuple[bytes, bytes, bytes], bytes]:
    """The exclusive canonical form of the ``ds:Manifest`` where it stands: its start
    tag, a reference's three parts around its URI and digest, its end tag (cut from
    lxml's canonicalization of a manifest of one reference)."""
    holder = etree.Element("holder", nsmap={"ds": DS, "xades": XADES})
    obj = etree.SubElement(holder, _ds("Object"))
    manifest = etree.SubElement(obj, _ds("Manifest"), Id=_MANIFEST_ID)
    reference = etree.SubElement(manifest, _ds("Reference"), URI=_URI)
    etree.SubElement(reference, _ds("DigestMethod"), Algorithm=_SHA256)
    etree.SubElement(reference, _ds("DigestValue")).text = _DIGEST
    canonical = etree.tostring(manifest, method="c14n", exclusive=True, with_comments=False)
    start, end = canonical.index(b"<ds:Reference"), canonical.rindex(b"</ds:Manifest>")
    before_uri, rest = canonical[start:end].split(_URI.encode())
    before_digest, after_digest = rest.split(_DIGEST.encode())
    return canonical[:start], (before_uri, before_digest, after_digest), canonical[end:]


def _escaped(value: str, escapes: tuple[tuple[str, str], ...]) -> bytes:
    if _NOT_XML.search(value):
        raise SignatureError("a manifest reference holds a character XML cannot")
    for char, escaped in escapes:
        value = value.replace(char, escaped)
    return value.encode()


def _attribute(value: str) -> bytes:
    """An attribute value as canonical XML writes it (C14N 1.0, 2.2)."""
    return _escaped(
        value,
        (("&", "&amp;"), ("<", "&lt;"), ('"', "&quot;"), ("\t", "&#x9;"), ("\n", "&#xA;"),
         ("\r", "&#xD;")),
    )  # fmt: skip


def _text(value: str) -> bytes:
    """Element text as canonical XML writes it."""
    return _escaped(value, (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#xD;")))


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
    for hostile XML), a manifest naming a URI twice included.
    """
    references: dict[str, str] = {}

    def keep(uri: str, digest: str) -> None:
        if uri in references:
            raise SignatureError(_TWICE)
        references[uri] = digest

    signed = check_manifest_signature(
        (data,), keep, ca_pem_file=ca_pem_file, expect_purpose=expect_purpose, max_bytes=max_bytes
    )
    return attrs.evolve(signed, references=references)


_TWICE = "the signature's manifest lists a reference twice"


def check_manifest_signature(
    chunks: Iterable[bytes],
    each_reference: Callable[[str, str], None],
    *,
    ca_pem_file: str | None = None,
    expect_purpose: str | None = None,
    max_bytes: int = MAX_SIGNATURE_BYTES,
) -> SignedManifest:
    """:func:`read_manifest_signature` of a document read a piece at a time
    (``chunks``), handing each reference of its manifest to ``each_reference(uri,
    digest)`` as it is read and never holding them: a massive export's signature lists
    every patient's archive. The manifest's canonical form is hashed a reference at a
    time (the shape :func:`write_manifest_signature` writes, anything else refused), and
    the rest of the document, small, is checked by ``signxml`` once read, the streamed
    digest standing for the manifest's.

    What ``each_reference`` was given is signed only once this returns: on an error
    the caller drops what it made of it. ``each_reference`` may raise to stop (a URI
    given twice); the returned value has no ``references``.
    """
    from signxml import SignatureConfiguration

    stream = _ManifestStream(each_reference)
    root: etree._Element | None = None
    for event, element in iter_xml(chunks, max_bytes=max_bytes):
        if root is None:
            root = element
            if element.tag != _ds("Signature"):
                raise SignatureError("the signature document is not a ds:Signature")
        stream.event(event, element)
    assert root is not None  # iter_xml refuses a document without a root element
    purpose_el = root.find(f".//{_ds('SignatureProperty')}[@Id='purposeOfSignature']")
    purpose = "".join(purpose_el.itertext()).strip() if purpose_el is not None else None
    certificate = _embedded_certificate(root)
    verifier = _streamed_verifier_class()(stream.digest)
    expected = {f"#{_MANIFEST_ID}", "#SignedProperties"}
    if purpose_el is not None:
        expected.add("#purposeOfSignature")
    try:
        verifier.verify(
            root,
            ca_pem_file=ca_pem_file,
            x509_cert=None if ca_pem_file else certificate,
            expect_config=SignatureConfiguration(
                expect_references=len(expected), require_x509=ca_pem_file is not None
            ),
        )
    except Exception as exc:
        raise SignatureError(f"the signature is invalid: {exc}") from None
    if sorted(verifier.covered) != sorted(expected):
        raise SignatureError("the signature is invalid: it does not cover its manifest")
    if expect_purpose is not None and purpose != expect_purpose:
        raise SignatureError("the signature lacks its purpose")
    return SignedManifest(
        references={},
        certificate=certificate,
        purpose=purpose,
        signing_time=root.findtext(f".//{_x('SigningTime')}"),
    )


_NOT_SIGNED_FORM = "the signature is invalid: its manifest is not in the form signed"


class _ManifestStream:
    """The ``ds:Manifest Id="IHEManifest"`` read from parser events: each reference
    checked for the one shape :func:`write_manifest_signature` writes, hashed as its
    canonical form, handed over, then dropped from the tree (the one before it: the
    tail of the one just ended may still be parsed). ``digest`` is the manifest's
    SHA-256 once its end tag was read."""

    def __init__(self, each_reference: Callable[[str, str], None]) -> None:
        self._each = each_reference
        self._manifest: etree._Element | None = None
        self._previous: etree._Element | None = None
        self._hash = hashlib.sha256()
        self.digest: bytes | None = None

    def event(self, event: str, element: etree._Element) -> None:
        if event == "start":
            if (
                self._manifest is None
                and element.tag == _ds("Manifest")
                and element.get("Id") == _MANIFEST_ID
            ):
                if element.prefix != "ds" or dict(element.attrib) != {"Id": _MANIFEST_ID}:
                    raise SignatureError(_NOT_SIGNED_FORM)
                self._manifest = element
                self._hash.update(_manifest_template()[0])
            return
        ended_manifest = element is self._manifest
        if ended_manifest:
            # the last reference stays: the xmldsig schema wants a manifest to have one
            last = self._previous
            if last is not None and last.tail is not None:
                raise SignatureError(_NOT_SIGNED_FORM)
            if element.text is not None or len(element) != (last is not None):
                raise SignatureError(_NOT_SIGNED_FORM)
            self._hash.update(_manifest_template()[2])
            self.digest = self._hash.digest()
        elif self._manifest is not None and element.getparent() is self._manifest:
            if self.digest is not None:  # pragma: no cover - its end ended the stream
                raise SignatureError(_NOT_SIGNED_FORM)
            uri, digest = _reference(element)
            self._drop_previous(element.getprevious())
            _before_uri, before_digest, after_digest = _manifest_template()[1]
            self._hash.update(
                b"".join((_before_uri, _attribute(uri), before_digest, _text(digest), after_digest))
            )
            self._previous = element
            self._each(uri, digest.strip())

    def _drop_previous(self, before: etree._Element | None) -> None:
        """Drop the reference read before, checking nothing (a comment, text) stands
        between it and what follows."""
        manifest = self._manifest
        assert manifest is not None
        if before is not self._previous or manifest.text is not None:
            raise SignatureError(_NOT_SIGNED_FORM)
        if self._previous is not None:
            if self._previous.tail is not None:
                raise SignatureError(_NOT_SIGNED_FORM)
            manifest.remove(self._previous)
            self._previous = None


def _reference(element: etree._Element) -> tuple[str, str]:
    """The URI and digest of a manifest's ``ds:Reference`` of the written shape."""
    children = list(element)
    if (
        element.tag != _ds("Reference")
        or element.prefix != "ds"
        or element.text is not None
        or list(element.attrib) != ["URI"]
        or len(children) != 2
    ):
        raise SignatureError(_NOT_SIGNED_FORM)
    method, value = children
    if (
        method.tag != _ds("DigestMethod")
        or method.prefix != "ds"
        or dict(method.attrib) != {"Algorithm": _SHA256}
        or method.text is not None
        or len(method)
        or method.tail is not None
        or value.tag != _ds("DigestValue")
        or value.prefix != "ds"
        or len(value.attrib)
        or len(value)
        or value.tail is not None
    ):
        raise SignatureError(_NOT_SIGNED_FORM)
    return element.get("URI", ""), value.text or ""


@functools.cache
def _streamed_verifier_class() -> Any:
    from signxml import XMLVerifier
    from signxml.exceptions import InvalidDigest, InvalidInput
    from signxml.verifier import VerifyResult

    class StreamedManifestVerifier(XMLVerifier):
        """signxml, with the manifest's digest the stream computed in place of the
        canonical form of the (emptied) manifest element; ``covered`` lists the URIs
        ``SignedInfo`` references."""

        def __init__(self, manifest_digest: bytes | None) -> None:
            super().__init__()
            self._manifest_digest = manifest_digest
            self.covered: list[str] = []

        def _verify_reference(self, reference: Any, index: int, root: Any, *args: Any) -> Any:
            uri = reference.get("URI")
            self.covered.append(uri)
            if uri != f"#{_MANIFEST_ID}":
                return super()._verify_reference(reference, index, root, *args)
            target = self._resolve_reference(root, reference)  # unique, as signxml wants
            transforms = reference.findall(f"{_ds('Transforms')}/{_ds('Transform')}")
            if (
                self._manifest_digest is None
                or target.tag != _ds("Manifest")
                or len(target) > 1
                or [t.get("Algorithm") for t in transforms] != [EXC_C14N]
                or any(len(t) for t in transforms)
                or reference.find(_ds("DigestMethod")).get("Algorithm") != _SHA256
            ):
                raise InvalidInput("the manifest reference is not the one signed")
            value = reference.findtext(_ds("DigestValue")) or ""
            if base64.b64decode(value) != self._manifest_digest:
                raise InvalidDigest(f"Digest mismatch for reference {index} ({uri})")
            return VerifyResult(b"", None, reference, signature_key=b"")

    return StreamedManifestVerifier
