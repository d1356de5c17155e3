"""The DMP signature document of a submission (IHE DSG style, reference ``xds-dmp.md``
§5.5): a detached XAdES signature (:mod:`segur_core.wire.xades`) whose manifest
references the submission set (``urn:oid:<uniqueId>``) and each document (digest of its
bytes), with the purpose of signature. ``signxml`` computes and checks the XML
signature; the manifest digests are checked here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from cryptography import x509

from segur_core.wire.signing import Signer
from segur_core.wire.xades import (
    SignatureError,
    read_manifest_signature,
    sha256_b64,
    sign_manifest,
)
from segur_dmp.errors import VIHFError
from segur_dmp.mtom import MAX_XML_BYTES

__all__ = ["PURPOSE_OF_SIGNATURE", "sign_submission", "verify_submission_signature"]

PURPOSE_OF_SIGNATURE = "1.2.840.10065.1.12.1.14"


def sign_submission(
    signer: Signer,
    *,
    submission_set_uid: str,
    documents: Sequence[tuple[str, bytes]],
    now: dt.datetime | None = None,
) -> bytes:
    """The signature document (XML bytes) of one submission set and its documents."""
    references = [(f"urn:oid:{submission_set_uid}", sha256_b64(submission_set_uid.encode()))]
    references += [(f"urn:oid:{uid}", sha256_b64(content)) for uid, content in documents]
    return sign_manifest(signer, references, purpose=PURPOSE_OF_SIGNATURE, now=now)


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
    try:
        signed = read_manifest_signature(data, ca_pem_file=ca_pem_file, max_bytes=MAX_XML_BYTES)
    except SignatureError as exc:
        raise VIHFError(f"submission set: {exc.message}") from None
    if signed.purpose != PURPOSE_OF_SIGNATURE:
        raise VIHFError("the submission set signature lacks its purpose (Source)")
    expected = {f"urn:oid:{submission_set_uid}": sha256_b64(submission_set_uid.encode())}
    expected.update({f"urn:oid:{uid}": sha256_b64(body) for uid, body in documents.items()})
    if signed.references != expected:
        raise VIHFError("the signature manifest does not match the submitted documents")
    return signed.certificate
