"""The manifest signature written a reference at a time (``write_manifest_signature``,
what a massive portability export signs): its canonical manifest is lxml's, whatever
the URIs hold, it verifies with signxml and gives back every reference, and what cannot
be XML is a typed error."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from segur_core.sandbox.pki import TestPKI
from segur_core.wire.signing import KeySigner
from segur_core.wire.xades import (
    DS,
    XADES,
    SignatureError,
    _attribute,
    _manifest_template,
    _text,
    read_manifest_signature,
    sha256_b64,
    sign_manifest,
    write_manifest_signature,
)

XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff").filter(
        lambda c: c in "\t\n\r" or ord(c) >= 0x20
    ),
    max_size=30,
)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> KeySigner:
    pki = TestPKI.create(tmp_path_factory.mktemp("pki"))
    credential = pki.issue_client("ARCHIVES")
    return KeySigner.from_pem_files(credential.key_path, credential.cert_path)


def _lxml_canonical(references: list[tuple[str, str]]) -> bytes:
    ds = f"{{{DS}}}"
    holder = etree.Element("holder", nsmap={"ds": DS, "xades": XADES})
    manifest = etree.SubElement(etree.SubElement(holder, ds + "Object"), ds + "Manifest")
    manifest.set("Id", "IHEManifest")
    for uri, digest in references:
        reference = etree.SubElement(manifest, ds + "Reference", URI=uri)
        etree.SubElement(
            reference, ds + "DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"
        )
        etree.SubElement(reference, ds + "DigestValue").text = digest
    return etree.tostring(manifest, method="c14n", exclusive=True, with_comments=False)


@given(st.lists(st.tuples(XML_TEXT, XML_TEXT), max_size=4))
def test_the_canonical_manifest_is_lxmls(references: list[tuple[str, str]]) -> None:
    head, (before_uri, before_digest, after_digest), tail = _manifest_template()
    ours = head + b"".join(
        before_uri + _attribute(uri) + before_digest + _text(digest) + after_digest
        for uri, digest in references
    )
    assert ours + tail == _lxml_canonical(references)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.from_regex(r"[A-Za-z0-9_.&~-]{1,12}", fullmatch=True), st.binary(max_size=8)),
        min_size=1,
        max_size=5,
    )
)
def test_a_streamed_signature_verifies_and_lists_every_reference(signer, pairs) -> None:
    references = [(f"F{n}{name}", sha256_b64(data)) for n, (name, data) in enumerate(pairs)]
    out = io.BytesIO()
    write_manifest_signature(out, signer, lambda: iter(references), purpose="1.2.3")
    signed = read_manifest_signature(out.getvalue(), expect_purpose="1.2.3")
    assert signed.references == dict(references)


def test_an_altered_reference_breaks_the_signature(signer) -> None:
    document = sign_manifest(signer, [("PAT00001.ZIP", sha256_b64(b"a"))])
    altered = document.replace(sha256_b64(b"a").encode(), sha256_b64(b"b").encode())
    with pytest.raises(SignatureError):
        read_manifest_signature(altered)


def test_what_cannot_be_xml_is_a_signature_error(signer) -> None:
    with pytest.raises(SignatureError, match="character"):
        sign_manifest(signer, [("PAT\x0100001.ZIP", sha256_b64(b"a"))])
