"""XML-DSig signatures of what is sent to national services (SAML assertions, XAdES).

:class:`Signer` is what a service needs from whoever signs: the signing certificate and
``sign()``. :class:`KeySigner` signs with a private key held in memory, loaded from a
PKCS#12 file (how IGC-Santé delivers certificates) or a PEM pair; a PKCS#11
implementation (a CPS card through the ANS Cryptolib) only needs the same two members.

Signatures use ``signxml``: SHA-256 digests, exclusive C14N, RSA-SHA256 (what CPS and
IGC-Santé keys are) or ECDSA-SHA256 for EC keys (the test PKI); the certificate goes in
``KeyInfo``.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

from segur_core.errors import TLSConfigError

__all__ = ["EXC_C14N", "KeySigner", "Signer"]

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_DS = "http://www.w3.org/2000/09/xmldsig#"


@runtime_checkable
class Signer(Protocol):
    """Signs XML with one certificate's key."""

    @property
    def certificate(self) -> x509.Certificate:
        """The signing certificate (its subject names the signer)."""
        ...

    def sign(
        self,
        element: etree._Element,
        *,
        reference_uri: str | list[Any],
        id_attribute: str | None = None,
        detached: bool = False,
        digests: Mapping[str, bytes] | None = None,
    ) -> etree._Element:
        """``element`` signed in place (enveloped: the ``ds:Signature`` replaces the
        placeholder or is appended) and returned; with ``detached``, the signature of
        the ``reference_uri`` references. ``id_attribute`` names the attribute the
        references point at (``ID`` for SAML). ``digests`` gives the digest of some
        references by URI, computed by the caller over what the element only stands
        for (a manifest too large to hold in memory, streamed)."""
        ...


class KeySigner:
    """A :class:`Signer` with a private key and its certificate(s) in memory.

    ``certificates`` are the certificates put in ``KeyInfo``, the signing one first.
    """

    def __init__(self, key: Any, certificates: Sequence[x509.Certificate]) -> None:
        if not certificates:
            raise TLSConfigError("a signer needs its certificate")
        self._key = key
        self._certificates = tuple(certificates)
        self._pem = [c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates]
        self.algorithm = (
            "ecdsa-sha256" if isinstance(key, ec.EllipticCurvePrivateKey) else "rsa-sha256"
        )

    @classmethod
    def from_pkcs12(cls, path: str | Path, password: bytes | None = None) -> KeySigner:
        """The key and certificate of a PKCS#12 file (the chain is not put in
        ``KeyInfo``). Raises :class:`TLSConfigError` when the file is unusable."""
        try:
            key, cert, _chain = pkcs12.load_key_and_certificates(Path(path).read_bytes(), password)
        except (OSError, ValueError) as exc:
            raise TLSConfigError(
                f"cannot load the signing PKCS#12 {Path(path).name}: {type(exc).__name__}",
                hint="check the file path and its password",
            ) from exc
        if key is None or cert is None:
            raise TLSConfigError(f"{Path(path).name} holds no key or no certificate")
        return cls(key, (cert,))

    @classmethod
    def from_pem(
        cls, key_pem: bytes, cert_pem: bytes, *, password: bytes | None = None
    ) -> KeySigner:
        """A PEM private key and a PEM certificate file (every certificate it holds goes
        in ``KeyInfo``). Raises :class:`TLSConfigError` when either is unusable."""
        try:
            key = serialization.load_pem_private_key(key_pem, password=password)
            certs = x509.load_pem_x509_certificates(cert_pem)
        except (ValueError, TypeError) as exc:
            raise TLSConfigError(f"cannot load the signing key or certificate: {exc}") from None
        return cls(key, certs)

    @classmethod
    def from_pem_files(cls, key_path: str | Path, cert_path: str | Path) -> KeySigner:
        """:meth:`from_pem` reading the two files."""
        try:
            key_pem, cert_pem = Path(key_path).read_bytes(), Path(cert_path).read_bytes()
        except OSError as exc:
            raise TLSConfigError(
                f"cannot read the signing key or certificate: {type(exc).__name__}",
                hint="check the file paths",
            ) from exc
        return cls.from_pem(key_pem, cert_pem)

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificates[0]

    @property
    def issuer(self) -> str:
        """The signing certificate's subject as an RFC 4514 string (a SAML ``Issuer``)."""
        return self.certificate.subject.rfc4514_string()

    def sign(
        self,
        element: etree._Element,
        *,
        reference_uri: str | list[Any],
        id_attribute: str | None = None,
        detached: bool = False,
        digests: Mapping[str, bytes] | None = None,
    ) -> etree._Element:
        from signxml import XMLSigner, methods

        class GivenDigests(XMLSigner):
            """signxml, with the digests the caller gives put in ``SignedInfo`` before
            it is signed."""

            def _build_sig(self, *args: Any, **kwargs: Any) -> Any:
                signed_info, value = super()._build_sig(*args, **kwargs)
                for reference in signed_info.iterfind(f"{{{_DS}}}Reference"):
                    given = (digests or {}).get(reference.get("URI", ""))
                    if given is not None:
                        digest = reference.find(f"{{{_DS}}}DigestValue")
                        digest.text = b64encode(given).decode("ascii")
                return signed_info, value

        signer = (GivenDigests if digests else XMLSigner)(
            method=methods.detached if detached else methods.enveloped,
            signature_algorithm=self.algorithm,
            digest_algorithm="sha256",
            c14n_algorithm=EXC_C14N,
        )
        return signer.sign(
            element,
            key=self._key,
            cert=self._pem,
            reference_uri=reference_uri,
            id_attribute=id_attribute,
        )
