"""The signature document read as a stream (``check_manifest_signature``, what ``segur
export verify`` checks SIGN.XML with): it accepts nothing that signxml checking the whole
document refuses, gives the same references, whatever the pieces it is read in, and ends
any hostile input (truncated, reordered, extra elements, a huge attribute, a DOCTYPE, a
signature-wrapping attempt) in a typed error."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from segur_core.errors import UnsafeXMLError
from segur_core.safexml import parse_xml
from segur_core.sandbox.pki import TestPKI
from segur_core.wire.signing import KeySigner
from segur_core.wire.xades import (
    DS,
    SignatureError,
    check_manifest_signature,
    read_manifest_signature,
    sha256_b64,
    sign_manifest,
)

REFERENCES = [("MANIFEST.XML", sha256_b64(b"m"))] + [
    (f"PAT{n:05d}.ZIP", sha256_b64(bytes([n]))) for n in range(1, 4)
]
PURPOSE = "1.2.840.10065.1.12.1.14"
_REFERENCE = re.compile(rb"<ds:Reference URI=\"[^\"]*\"><ds:DigestMethod.*?</ds:Reference>")
SNIPPETS = [
    b"<!-- a comment -->",
    b" ",
    b"\n",
    b"<?pi data?>",
    b"<extra/>",
    b'<extra Id="IHEManifest"/>',
    b'<x:extra xmlns:x="urn:x" x:Id="IHEManifest"/>',
    b'<ds:Manifest Id="IHEManifest"></ds:Manifest>',
    b'<ds:Reference URI="PAT09999.ZIP"><ds:DigestMethod Algorithm='
    b'"http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod><ds:DigestValue>'
    + sha256_b64(b"forged").encode()
    + b"</ds:DigestValue></ds:Reference>",
    b"<ds:Transforms/>",
    b"&amp;",
    b"<![CDATA[x]]>",
]


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> KeySigner:
    pki = TestPKI.create(tmp_path_factory.mktemp("pki"))
    credential = pki.issue_client("ARCHIVES")
    return KeySigner.from_pem_files(credential.key_path, credential.cert_path)


@pytest.fixture(scope="module")
def document(signer: KeySigner) -> bytes:
    return sign_manifest(signer, REFERENCES, purpose=PURPOSE)


def _whole_document(data: bytes) -> dict[str, str]:
    """The former reader: signxml checks the whole document, the references are read
    from its tree (the oracle the streamed reader is compared with)."""
    from signxml import SignatureConfiguration, XMLVerifier

    root = parse_xml(data, max_bytes=1 << 28)
    if root.tag != f"{{{DS}}}Signature":
        raise SignatureError("not a signature")
    purpose = root.find(f".//{{{DS}}}SignatureProperty[@Id='purposeOfSignature']")
    cert = root.findtext(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate") or ""
    from cryptography import x509

    certificate = x509.load_der_x509_certificate(base64.b64decode("".join(cert.split())))
    XMLVerifier().verify(
        etree.fromstring(etree.tostring(root)),
        x509_cert=certificate,
        expect_config=SignatureConfiguration(
            expect_references=3 if purpose is not None else 2, require_x509=False
        ),
    )
    return {
        r.get("URI", ""): (r.findtext(f"{{{DS}}}DigestValue") or "").strip()
        for r in root.iterfind(f".//{{{DS}}}Manifest[@Id='IHEManifest']/{{{DS}}}Reference")
    }


def _streamed(data: bytes, piece: int = 1 << 16) -> dict[str, str]:
    seen: dict[str, str] = {}

    def keep(uri: str, digest: str) -> None:
        if uri in seen:
            raise SignatureError("twice")
        seen[uri] = digest

    pieces = (data[at : at + piece] for at in range(0, len(data), piece))
    check_manifest_signature(pieces, keep, expect_purpose=PURPOSE)
    return seen


def test_a_signature_read_in_any_pieces_gives_every_reference(document: bytes) -> None:
    for piece in (1, 7, 100, len(document)):
        assert _streamed(document, piece) == dict(REFERENCES)
    assert _whole_document(document) == dict(REFERENCES)


@st.composite
def mutated(draw: st.DrawFn, document: bytes) -> bytes:
    """The document altered the ways an attacker or a damaged file would."""
    data = document
    references = list(_REFERENCE.finditer(data))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(
            st.sampled_from(
                [
                    "truncate",
                    "insert",
                    "insert",
                    "insert",
                    "swap",
                    "duplicate",
                    "drop",
                    "digest",
                    "byte",
                ]
            )
        )
        if not data:
            break
        if how == "truncate":
            data = data[: draw(st.integers(0, len(data) - 1))]
        elif how == "insert":
            ends = [m.end() for m in re.finditer(rb">", data)] or [0]
            at = draw(st.sampled_from(ends))
            data = data[:at] + draw(st.sampled_from(SNIPPETS)) + data[at:]
        elif how in ("swap", "duplicate", "drop") and len(references) >= 2:
            a, b = (m.group() for m in references[:2])
            if how == "swap":
                data = data.replace(a + b, b + a)
            elif how == "duplicate":
                data = data.replace(a, a + a, 1)
            else:
                data = data.replace(a, b"", 1)
        elif how == "digest":
            old = REFERENCES[draw(st.integers(1, len(REFERENCES) - 1))][1].encode()
            data = data.replace(old, sha256_b64(b"other").encode())
        elif how == "byte":
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
        references = list(_REFERENCE.finditer(data))
    return data


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_the_streamed_reader_accepts_nothing_the_whole_document_check_refuses(
    document: bytes, data: st.DataObject
) -> None:
    altered = data.draw(mutated(document))
    piece = data.draw(st.sampled_from([1, 13, 4096, 1 << 20]))
    try:
        streamed = _streamed(altered, piece)
    except (SignatureError, UnsafeXMLError):
        return  # refused, typed: the only other outcome allowed
    assert _whole_document(altered) == streamed


def test_a_reference_listed_twice_is_refused(signer: KeySigner) -> None:
    twice = sign_manifest(signer, [*REFERENCES, REFERENCES[1]], purpose=PURPOSE)
    with pytest.raises(SignatureError, match="twice"):
        read_manifest_signature(twice, expect_purpose=PURPOSE)


@pytest.mark.parametrize(
    "prolog",
    [
        b'<!DOCTYPE ds:Signature [<!ENTITY e "x">]>',
        b'<!DOCTYPE ds:Signature SYSTEM "http://example.invalid/sig.dtd">',
        b"<!DOCTYPE ds:Signature>",
    ],
)
def test_a_doctype_is_refused_before_anything_is_read(document: bytes, prolog: bytes) -> None:
    declaration, rest = document.split(b"\n", 1)
    with pytest.raises(UnsafeXMLError, match="DOCTYPE"):
        _streamed(declaration + b"\n" + prolog + rest, 5)


def test_a_huge_attribute_is_refused(document: bytes) -> None:
    huge = document.replace(b'URI="PAT00001.ZIP"', b'URI="' + b"A" * 12_000_000 + b'"')
    with pytest.raises(UnsafeXMLError):
        _streamed(huge)
    large = document.replace(b'URI="PAT00001.ZIP"', b'URI="' + b"A" * 1_000_000 + b'"')
    with pytest.raises(SignatureError, match="Digest mismatch"):
        _streamed(large)


def test_the_document_is_refused_beyond_its_size_limit(document: bytes) -> None:
    with pytest.raises(UnsafeXMLError, match="too large"):
        check_manifest_signature([document], lambda uri, digest: None, max_bytes=1000)


def test_signature_wrapping_is_refused(document: bytes) -> None:
    """The signed manifest moved aside, a forged one standing in its place."""
    signed = re.search(rb'<ds:Manifest Id="IHEManifest">.*?</ds:Manifest>', document).group()
    forged = _REFERENCE.sub(b"", signed, count=1)  # one reference fewer, unsigned
    for wrapped in (
        # the signed one renamed, the forged one taking its Id
        document.replace(signed, signed.replace(b"IHEManifest", b"Moved") + forged),
        # the forged one first, the signed one after it: two elements with the Id
        document.replace(signed, forged + signed),
        # the signed one hidden in a foreign element, the forged one in its place
        document.replace(signed, forged + b'<x:w xmlns:x="urn:x">' + signed + b"</x:w>"),
        # an element of another namespace carrying the Id
        document.replace(signed, forged.replace(b"ds:Manifest", b"ds:Object") + signed),
    ):
        with pytest.raises(SignatureError):
            _streamed(wrapped)


def test_a_signed_info_not_covering_the_manifest_is_refused(signer: KeySigner) -> None:
    """A valid signature whose SignedInfo references something else than the manifest
    (three references, as many as expected)."""
    document = sign_manifest(signer, REFERENCES, purpose=PURPOSE)
    root = etree.fromstring(document)
    manifest = root.find(f".//{{{DS}}}Manifest")
    manifest.set("Id", "Elsewhere")
    holder = etree.Element("holder", nsmap={"ds": DS})
    for obj in root.iterfind(f"{{{DS}}}Object"):
        holder.append(obj)
    other = etree.SubElement(etree.SubElement(holder, f"{{{DS}}}Object"), "other", Id="Other")
    other.text = "x"
    etree.SubElement(etree.SubElement(holder, f"{{{DS}}}Object"), f"{{{DS}}}Manifest").set(
        "Id", "IHEManifest"
    )
    holder[-1][0].append(manifest[0])  # a manifest of one reference, not signed
    from signxml.signer import SignatureReference

    sig = signer.sign(
        holder,
        detached=True,
        reference_uri=[
            SignatureReference(URI="#Other"),
            SignatureReference(URI="#purposeOfSignature"),
            SignatureReference(URI="#SignedProperties"),
        ],
    )
    for child in list(holder):
        sig.append(child)
    crafted = etree.tostring(sig, xml_declaration=True, encoding="UTF-8")
    with pytest.raises(SignatureError, match="does not cover its manifest"):
        _streamed(crafted)


@given(st.binary(max_size=600))
@settings(max_examples=100, deadline=None)
def test_any_bytes_end_in_a_typed_error(data: bytes) -> None:
    with pytest.raises((SignatureError, UnsafeXMLError)):
        _streamed(data, 17)
