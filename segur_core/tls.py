"""Mutual TLS: client and server ``ssl.SSLContext``s and certificate expiry checks.

Every connection to a national service goes through :func:`client_context`: TLS 1.2 at
least, the server certificate verified against the configured CA bundle (IGC-Santé in
production, the test PKI in the sandboxes), the host name checked, and the structure's
client certificate presented. There is no plaintext fallback: callers get an
``ssl.SSLContext`` or a :class:`~segur_core.errors.TLSConfigError` saying what to fix.
The context also keeps what it was made of (:func:`client_material`: the CAs, the
client's chain and its encrypted key, in memory), so that a TLS stack other than ``ssl``
(libcurl, :mod:`segur_core.wire.curl`) connects with exactly the same trust and identity.

PKCS#12 files (how IGC-Santé delivers software certificates) are opened with
``cryptography``. ``ssl`` can only load keys from files, so the key is re-encrypted with
a one-time random password into a 0600 temporary file that is deleted right after
``load_cert_chain``: no unencrypted key material ever touches the disk.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from segur_core.errors import TLSConfigError

__all__ = [
    "CertificateWarning",
    "ClientMaterial",
    "PrivateKey",
    "certificate_warnings",
    "client_context",
    "client_material",
    "load_certificates",
    "load_pkcs12",
    "server_context",
]

PrivateKey = Any  # any cryptography private key type usable for TLS

_PASSWORD_HINT = "check the certificate password in the configuration"


def _read(path: Path | str, what: str) -> bytes:
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TLSConfigError(
            f"{what} not found: {path}", hint="check the path in the configuration"
        ) from None
    except OSError as error:
        raise TLSConfigError(
            f"cannot read {what} {path}: {error.strerror or error}",
            hint="check the file permissions",
        ) from None


def _password_bytes(password: str | bytes | None) -> bytes | None:
    if password is None or isinstance(password, bytes):
        return password
    return password.encode("utf-8")


def load_pkcs12(
    path: Path | str, password: str | bytes | None
) -> tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]:
    """Open a PKCS#12 (``.p12``/``.pfx``) file: ``(private key, certificate, chain)``."""
    data = _read(path, "PKCS#12 certificate file")
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, _password_bytes(password))
    except ValueError:
        raise TLSConfigError(
            f"cannot open the PKCS#12 file {path}: wrong password or not a PKCS#12 file",
            hint=_PASSWORD_HINT,
        ) from None
    if key is None or cert is None:
        raise TLSConfigError(
            f"the PKCS#12 file {path} holds no private key or no certificate",
            hint="export the certificate again with its private key",
        )
    return key, cert, list(chain)


def load_certificates(path: Path | str) -> list[x509.Certificate]:
    """Read every certificate of a PEM bundle or a DER file."""
    data = _read(path, "certificate file")
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise TLSConfigError(
            f"{path} is not a PEM or DER certificate file",
            hint="use the CA bundle delivered with the certificates",
        ) from None
    return certs


def _check_validity(cert: x509.Certificate, where: str, now: dt.datetime | None = None) -> None:
    moment = now or dt.datetime.now(dt.UTC)
    subject = cert.subject.rfc4514_string()
    if cert.not_valid_after_utc < moment:
        raise TLSConfigError(
            f"the certificate {subject} ({where}) expired on {cert.not_valid_after_utc:%Y-%m-%d}",
            hint="renew it with the certificate authority (IGC-Santé) and install the new one",
        )
    if cert.not_valid_before_utc > moment:
        raise TLSConfigError(
            f"the certificate {subject} ({where}) is not valid before "
            f"{cert.not_valid_before_utc:%Y-%m-%d}",
            hint="check the computer's clock or wait for the validity start",
        )


@attrs.frozen
class ClientMaterial:
    """What a client context trusts and presents, PEM, in memory: the CA certificates,
    the client's certificate chain and its key (encrypted with ``key_password`` when it
    has one; a PKCS#12 key is re-encrypted with a one-time password)."""

    ca_pem: bytes = attrs.field(repr=False)
    cert_pem: bytes | None = attrs.field(default=None, repr=False)
    key_pem: bytes | None = attrs.field(default=None, repr=False)
    key_password: bytes | None = attrs.field(default=None, repr=False)


def _settings(context: ssl.SSLContext) -> tuple[object, ...]:
    return (context.verify_mode, context.check_hostname, context.minimum_version,
            context.maximum_version, context.options)  # fmt: skip


class _ClientContext(ssl.SSLContext):
    """An ``ssl.SSLContext`` that remembers its :class:`ClientMaterial`; any later load
    or cipher change forgets it (the material would no longer say what it trusts)."""

    _material: ClientMaterial | None = None
    _settings: tuple[object, ...] = ()

    def _keep(self, material: ClientMaterial) -> None:
        self._material, self._settings = material, _settings(self)

    def load_verify_locations(self, *args: Any, **kwargs: Any) -> None:
        self._material = None
        super().load_verify_locations(*args, **kwargs)

    def load_cert_chain(self, *args: Any, **kwargs: Any) -> None:
        self._material = None
        super().load_cert_chain(*args, **kwargs)

    def load_default_certs(self, *args: Any, **kwargs: Any) -> None:
        self._material = None
        super().load_default_certs(*args, **kwargs)

    def set_ciphers(self, *args: Any, **kwargs: Any) -> None:
        self._material = None
        super().set_ciphers(*args, **kwargs)


def client_material(context: ssl.SSLContext | None) -> ClientMaterial | None:
    """The material ``context`` was made of by :func:`client_context`, or ``None`` if it
    was made otherwise or changed since (verification, versions, options, loads)."""
    if not isinstance(context, _ClientContext) or context._material is None:
        return None
    return context._material if _settings(context) == context._settings else None


def _base_context(*, server: bool) -> ssl.SSLContext:
    if server:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    else:
        context = _ClientContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION
    return context


def _load_verify(context: ssl.SSLContext, ca_bundle: Path | str | Sequence[Path | str]) -> bytes:
    """Trust ``ca_bundle``; its certificates, PEM."""
    bundles = [ca_bundle] if isinstance(ca_bundle, str | Path) else list(ca_bundle)
    if not bundles:
        raise TLSConfigError("no CA bundle configured", hint="set the CA bundle path")
    pem = b""
    for bundle in bundles:
        certs = load_certificates(bundle)  # clear error for a missing or non-certificate file
        try:
            context.load_verify_locations(cafile=str(bundle))
        except ssl.SSLError as error:
            raise TLSConfigError(f"cannot use the CA bundle {bundle}: {error}") from None
        pem += b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)
    return pem


def _load_pkcs12_into(
    context: ssl.SSLContext, path: Path | str, password: str | bytes | None, check_validity: bool
) -> tuple[bytes, bytes, bytes]:
    """Present the certificate of a PKCS#12 file; its chain and encrypted key, PEM, and
    the key's one-time password."""
    key, cert, chain = load_pkcs12(path, password)
    if check_validity:
        _check_validity(cert, f"PKCS#12 {path}")
    one_time = secrets.token_urlsafe(32).encode("ascii")  # text: libcurl takes a C string
    certs = cert.public_bytes(serialization.Encoding.PEM)
    certs += b"".join(extra.public_bytes(serialization.Encoding.PEM) for extra in chain)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(one_time),
    )
    fd, name = tempfile.mkstemp(prefix="segur-tls-", suffix=".pem")  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(certs + encrypted)
        context.load_cert_chain(name, password=one_time)
    except ssl.SSLError as error:
        raise TLSConfigError(f"cannot use the certificate in {path}: {error}") from None
    finally:
        os.unlink(name)
    return certs, encrypted, one_time


def _load_pem_into(
    context: ssl.SSLContext,
    cert: Path | str,
    key: Path | str | None,
    password: str | bytes | None,
    check_validity: bool,
) -> tuple[bytes, bytes]:
    """Present the certificate of PEM files; the certificate file and the key file (the
    certificate file again when it holds the key)."""
    certs = load_certificates(cert)
    if check_validity:
        _check_validity(certs[0], str(cert))
    cert_pem = _read(cert, "certificate file")
    key_pem = _read(key, "private key file") if key is not None else cert_pem
    try:
        context.load_cert_chain(
            str(cert), str(key) if key is not None else None, password=_password_bytes(password)
        )
    except ssl.SSLError as error:
        raise TLSConfigError(
            f"cannot use the certificate {cert} with key {key}: {error.reason or error}",
            hint="check that the key matches the certificate and its password",
        ) from None
    return cert_pem, key_pem


def client_context(
    *,
    ca_bundle: Path | str | Sequence[Path | str],
    pkcs12: Path | str | None = None,
    password: str | bytes | None = None,
    cert: Path | str | None = None,
    key: Path | str | None = None,
    check_validity: bool = True,
) -> ssl.SSLContext:
    """A client context for httpx (``verify=ctx``), smtplib and imaplib.

    The server is verified against ``ca_bundle`` (host name included). The client
    certificate comes from a PKCS#12 file (``pkcs12`` + ``password``) or PEM files
    (``cert`` + ``key``, ``password`` then protects the key). With ``check_validity`` an
    expired or not yet valid client certificate is refused here rather than by the peer.
    """
    if pkcs12 is not None and cert is not None:
        raise TLSConfigError("give either a PKCS#12 file or a PEM certificate, not both")
    context = _base_context(server=False)
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    material = ClientMaterial(_load_verify(context, ca_bundle))
    if pkcs12 is not None:
        chain, encrypted, one_time = _load_pkcs12_into(context, pkcs12, password, check_validity)
        material = attrs.evolve(material, cert_pem=chain, key_pem=encrypted, key_password=one_time)
    elif cert is not None:
        cert_pem, key_pem = _load_pem_into(context, cert, key, password, check_validity)
        material = attrs.evolve(
            material, cert_pem=cert_pem, key_pem=key_pem, key_password=_password_bytes(password)
        )
    if isinstance(context, _ClientContext):
        context._keep(material)
    return context


def server_context(
    cert: Path | str,
    key: Path | str | None,
    ca_bundle: Path | str | Sequence[Path | str] | None,
    *,
    require_client_cert: bool = True,
    password: str | bytes | None = None,
) -> ssl.SSLContext:
    """A server context; with ``require_client_cert`` a client certificate chaining to
    ``ca_bundle`` is mandatory (mutual TLS)."""
    context = _base_context(server=True)
    _load_pem_into(context, cert, key, password, check_validity=False)
    if ca_bundle is not None:
        _load_verify(context, ca_bundle)
        context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    elif require_client_cert:
        raise TLSConfigError(
            "a CA bundle is needed to require client certificates",
            hint="configure the CA bundle the clients' certificates chain to",
        )
    return context


# -- expiry warnings (segur doctor) ----------------------------------------------------------


@attrs.frozen
class CertificateWarning:
    """A certificate that is or will soon be unusable.

    ``kind`` is ``expired``, ``expires-soon``, ``not-yet-valid`` or ``unreadable``.
    """

    source: str
    kind: str
    message: str
    subject: str = ""
    not_after: dt.datetime | None = None

    def __str__(self) -> str:
        return self.message


CertificateSource = Path | str | tuple[Path | str, str | bytes | None]


def certificate_warnings(
    sources: Iterable[CertificateSource],
    *,
    days: int = 30,
    now: dt.datetime | None = None,
) -> list[CertificateWarning]:
    """Check certificates for ``segur doctor``.

    Each source is a PEM/DER file (every certificate of a bundle is checked) or a
    ``(pkcs12_path, password)`` pair. Unreadable sources give an ``unreadable`` warning
    rather than an exception, so one bad file does not hide the others.
    """
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    soon = moment + dt.timedelta(days=days)
    warnings: list[CertificateWarning] = []
    for source in sources:
        if isinstance(source, tuple):
            path, password = source
            label = str(path)
            try:
                _, cert, _chain = load_pkcs12(path, password)
                certs = [cert]
            except TLSConfigError as error:
                warnings.append(CertificateWarning(label, "unreadable", str(error)))
                continue
        else:
            label = str(source)
            try:
                certs = load_certificates(source)
            except TLSConfigError as error:
                warnings.append(CertificateWarning(label, "unreadable", str(error)))
                continue
        for cert in certs:
            subject = cert.subject.rfc4514_string()
            end = cert.not_valid_after_utc
            if end < moment:
                kind, text = "expired", f"expired on {end:%Y-%m-%d}; renew it"
            elif cert.not_valid_before_utc > moment:
                start = cert.not_valid_before_utc
                kind, text = "not-yet-valid", f"not valid before {start:%Y-%m-%d}"
            elif end <= soon:
                left = (end - moment).days
                kind, text = "expires-soon", f"expires in {left} day(s) on {end:%Y-%m-%d}; renew it"
            else:
                continue
            message = f"certificate {subject} in {label}: {text}"
            warnings.append(CertificateWarning(label, kind, message, subject, end))
    return warnings
