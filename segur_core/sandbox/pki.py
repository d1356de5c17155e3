"""A throw-away IGC-Santé-like PKI for sandboxes, the demo and the tests.

``TestPKI.create(directory)`` writes (or loads, when already there) a small hierarchy
shaped like the ANS "IGC-Santé" one, every name clearly marked TEST:

- a root CA ``TEST AC RACINE IGC-SANTE ELEMENTAIRE``;
- an intermediate for organisations ``TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS`` (issues
  the loopback server certificate and the structure certificates: the structure itself,
  ``INSI-AUTO`` and ``INSI-MANU`` whose subject carries the ``1`` + FINESS identifier);
- an intermediate for persons ``TEST AC IGC-SANTE ELEMENTAIRE PERSONNES`` (issues a CPS-like
  personal certificate whose CN is the ``8`` + RPPS national identifier);
- for negative tests: an expired client certificate, a not-yet-valid one, and an
  ``INSI-AUTO`` certificate from an unrelated CA, all kept under ``negative/`` (so that
  expiry checks such as ``segur doctor`` can skip that folder).

Every credential exists as PEM certificate + PEM key and as a PKCS#12 file protected by a
password. Keys are EC P-256 so that creating the whole set takes a few tens of ms.
Nothing here is fit for production: keys are written unencrypted (mode 0600) next to the
certificates so that test servers can load them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from segur_core.errors import TLSConfigError
from segur_core.files import write_private

if TYPE_CHECKING:
    from segur_core.model import Structure

__all__ = [
    "CPS_IDNAT",
    "STRUCTURE_FINESS",
    "STRUCTURE_IDNAT",
    "Credential",
    "TestPKI",
]

#: Fictitious FINESS of the test pharmacy (valid Luhn key) and its national structure id.
STRUCTURE_FINESS = "750000010"
STRUCTURE_IDNAT = "1" + STRUCTURE_FINESS
#: Fictitious RPPS of the test pharmacist and its national professional id (``8`` + RPPS).
CPS_RPPS = "10000000009"
CPS_IDNAT = "8" + CPS_RPPS

STRUCTURE_NAME = "PHARMACIE TEST SEGUR"
_TEST_ORG = "TEST SEGUR - IGC-SANTE FICTIVE"
_MANIFEST = "pki.json"
_P12_PASSWORD = "segur-test"
_CURVE = ec.SECP256R1()
#: Credentials only meant to be refused; kept in ``negative/`` so checks can skip them.
_NEGATIVE = frozenset({"expired", "not-yet-valid", "foreign"})
#: Serialises :meth:`TestPKI.issue_client` (it rewrites the manifest).
_ISSUE_LOCK = threading.Lock()


@attrs.frozen
class Credential:
    """One certificate with its key, as PEM files and as a password-protected PKCS#12."""

    cert_path: Path
    key_path: Path
    p12_path: Path
    p12_password: str
    subject_cn: str


def _name(cn: str, *, ou: tuple[str, ...] = (), org: str = _TEST_ORG, **extra: str) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")]
    attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attributes.extend(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit) for unit in ou)
    oids = {
        "surname": NameOID.SURNAME,
        "given_name": NameOID.GIVEN_NAME,
        "title": NameOID.TITLE,
        "serial": NameOID.SERIAL_NUMBER,
    }
    attributes.extend(x509.NameAttribute(oids[key], value) for key, value in extra.items())
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def _cn(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


@attrs.define
class _Issuer:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _build(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: _Issuer | None,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    ca: bool = False,
    path_length: int | None = None,
    server_names: tuple[str, ...] = (),
    client: bool = False,
) -> x509.Certificate:
    """Sign a certificate (self-signed when ``issuer`` is None) with sane extensions."""
    issuer_name = issuer.cert.subject if issuer else subject
    signing_key = issuer.key if issuer else key
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    if ca:
        usage = x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False,
        )  # fmt: skip
        builder = builder.add_extension(usage, critical=True)
    else:
        usage = x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False,
        )  # fmt: skip
        builder = builder.add_extension(usage, critical=True)
        purposes = [ExtendedKeyUsageOID.SERVER_AUTH] if server_names else []
        if client:
            purposes.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        if purposes:
            builder = builder.add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
    if server_names:
        alt: list[x509.GeneralName] = []
        for host in server_names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, data: bytes) -> None:
    """Write key material readable by the owner only (a key written again over an old
    one does not keep the old file's mode)."""
    write_private(path, data)


@attrs.define
class TestPKI:
    """An IGC-Santé-like test PKI stored in ``directory`` (see the module docstring)."""

    __test__ = False  # not a pytest test class despite its name

    directory: Path
    ca_bundle: Path
    root_cert: Path
    server: Credential
    credentials: dict[str, Credential]
    foreign_ca: Path
    now: dt.datetime

    # -- creation / loading -----------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path | str, *, now: dt.datetime | None = None) -> TestPKI:
        """Create the PKI in ``directory``, or load it when it is already there."""
        directory = Path(directory)
        now = _aware(now)
        if (directory / _MANIFEST).exists():
            pki = cls.load(directory, now=now)
            server = x509.load_pem_x509_certificate(pki.server_cert.read_bytes())
            if server.not_valid_before_utc <= now < server.not_valid_after_utc:
                return pki
            # an old demo folder whose certificates ran out: make a fresh hierarchy
        return cls._generate(directory, now)

    @classmethod
    def load(cls, directory: Path | str, *, now: dt.datetime | None = None) -> TestPKI:
        """Load a PKI written by :meth:`create`."""
        directory = Path(directory)
        try:
            manifest = json.loads((directory / _MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise TLSConfigError(
                f"cannot read the test PKI in {directory}: {error}",
                hint="delete the folder and run `segur pki init` again",
            ) from error
        credentials = {
            name: _credential_from(directory, entry)
            for name, entry in manifest["credentials"].items()
        }
        return cls(
            directory=directory,
            ca_bundle=directory / manifest["ca_bundle"],
            root_cert=directory / manifest["root_cert"],
            server=_credential_from(directory, manifest["server"]),
            credentials=credentials,
            foreign_ca=directory / manifest["foreign_ca"],
            now=_aware(now),
        )

    @classmethod
    def _generate(cls, directory: Path, now: dt.datetime) -> TestPKI:
        directory.mkdir(parents=True, exist_ok=True)
        start = now - dt.timedelta(days=1)
        ca_end = now + dt.timedelta(days=3650)
        leaf_end = now + dt.timedelta(days=730)

        def make_ca(cn: str, issuer: _Issuer | None, ou: tuple[str, ...]) -> _Issuer:
            key = ec.generate_private_key(_CURVE)
            cert = _build(
                _name(cn, ou=ou), key, issuer, not_before=start, not_after=ca_end, ca=True,
                path_length=None if issuer is None else 0,
            )  # fmt: skip
            return _Issuer(cert, key)

        igc_ou = ("IGC-SANTE ELEMENTAIRE TEST",)
        root = make_ca("TEST AC RACINE IGC-SANTE ELEMENTAIRE", None, igc_ou)
        organisations = make_ca("TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", root, igc_ou)
        persons = make_ca("TEST AC IGC-SANTE ELEMENTAIRE PERSONNES", root, igc_ou)
        foreign = make_ca("TEST AC AUTRE HORS IGC-SANTE", None, ("AUTRE AUTORITE",))

        ca_dir = directory / "ca"
        ca_dir.mkdir(parents=True, exist_ok=True)
        for label, issuer in (
            ("root", root), ("organisations", organisations), ("persons", persons),
            ("foreign", foreign),
        ):  # fmt: skip
            (ca_dir / f"{label}.crt.pem").write_bytes(_pem(issuer.cert))
            _write_private(ca_dir / f"{label}.key.pem", _key_pem(issuer.key))
        bundle = directory / "ca-bundle.pem"
        bundle.write_bytes(_pem(root.cert) + _pem(organisations.cert) + _pem(persons.cert))

        server_key = ec.generate_private_key(_CURVE)
        server_cert = _build(
            _name("localhost", ou=("SANDBOX SEGUR",)), server_key, organisations,
            not_before=start, not_after=leaf_end,
            server_names=("localhost", "127.0.0.1", "::1"), client=True,
        )  # fmt: skip
        server = _store(directory / "server", "server", server_key, server_cert, organisations)

        structure_ou = (STRUCTURE_IDNAT,)
        org = STRUCTURE_NAME
        specs: list[tuple[str, x509.Name, _Issuer, dt.datetime, dt.datetime]] = [
            ("structure", _name(org, ou=structure_ou, org=org), organisations, start, leaf_end),
            ("insi-auto", _name("INSI-AUTO", ou=structure_ou, org=org), organisations, start,
             leaf_end),
            ("insi-manu", _name("INSI-MANU", ou=structure_ou, org=org), organisations, start,
             leaf_end),
            ("cps", _name(CPS_IDNAT, ou=structure_ou, org=org, surname="TEST",
                          given_name="PHARMACIEN", title="Pharmacien", serial=CPS_IDNAT),
             persons, start, leaf_end),
            ("expired", _name("EXPIRED-CLIENT", ou=structure_ou, org=org), organisations,
             now - dt.timedelta(days=400), now - dt.timedelta(days=1)),
            ("not-yet-valid", _name("FUTURE-CLIENT", ou=structure_ou, org=org), organisations,
             now + dt.timedelta(days=30), now + dt.timedelta(days=400)),
            ("foreign", _name("INSI-AUTO", ou=structure_ou, org="AUTRE"), foreign, start,
             leaf_end),
        ]  # fmt: skip
        credentials: dict[str, Credential] = {}
        for label, subject, issuer, not_before, not_after in specs:
            key = ec.generate_private_key(_CURVE)
            cert = _build(
                subject, key, issuer, not_before=not_before, not_after=not_after, client=True
            )
            folder = "negative" if label in _NEGATIVE else "clients"
            credentials[label] = _store(directory / folder, label, key, cert, issuer)

        manifest = {
            "ca_bundle": "ca-bundle.pem",
            "root_cert": "ca/root.crt.pem",
            "foreign_ca": "ca/foreign.crt.pem",
            "server": _credential_entry(directory, server),
            "credentials": {
                name: _credential_entry(directory, cred) for name, cred in credentials.items()
            },
        }
        _write_manifest(directory, manifest)
        return cls.load(directory, now=now)

    # -- accessors --------------------------------------------------------------------------

    @property
    def server_cert(self) -> Path:
        return self.server.cert_path

    @property
    def server_key(self) -> Path:
        return self.server.key_path

    def client(self, name: str) -> Credential:
        """A client credential by name: ``structure``, ``insi-auto``, ``insi-manu``, ``cps``,
        ``expired``, ``not-yet-valid``, ``foreign`` or one made by :meth:`issue_client`."""
        try:
            return self.credentials[name]
        except KeyError:
            known = ", ".join(sorted(self.credentials))
            raise TLSConfigError(
                f"no test credential named {name!r}", hint=f"known credentials: {known}"
            ) from None

    def structure_credential(self, structure: Structure, *, use: str) -> Credential:
        """The certificate of ``structure`` (a :class:`~segur_core.model.Structure`) for
        one ``use`` (``dmp``, ``portability``...), issued on first use."""
        label = f"{use}-{structure.idnst}"
        try:
            return self.client(label)
        except TLSConfigError:
            return self.issue_client(
                structure.name, name=label, organisation=structure.name, ou=(structure.idnst,)
            )

    def issue_client(
        self,
        cn: str,
        *,
        name: str | None = None,
        issuer: str = "organisations",
        organisation: str = STRUCTURE_NAME,
        ou: tuple[str, ...] = (STRUCTURE_IDNAT,),
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> Credential:
        """Issue (and store) a client certificate with a custom subject or validity.

        ``issuer`` is ``organisations``, ``persons`` or ``foreign`` (the unrelated CA).
        """
        if issuer not in ("organisations", "persons", "foreign"):
            raise TLSConfigError(f"unknown test issuer {issuer!r}")
        ca_dir = self.directory / "ca"
        ca_cert = x509.load_pem_x509_certificate((ca_dir / f"{issuer}.crt.pem").read_bytes())
        ca_key = serialization.load_pem_private_key(
            (ca_dir / f"{issuer}.key.pem").read_bytes(), password=None
        )
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        authority = _Issuer(ca_cert, ca_key)
        start = _aware(not_before) if not_before else self.now - dt.timedelta(days=1)
        end = _aware(not_after) if not_after else start + dt.timedelta(days=730)
        label = name or _slug(cn)
        if not label or label.startswith(".") or any(sep in label for sep in "/\\\0"):
            raise TLSConfigError(f"invalid test credential name {label!r}")
        with _ISSUE_LOCK:
            return self._issue(
                label, cn, authority=authority, ou=ou, org=organisation, start=start, end=end
            )

    def _issue(
        self,
        label: str,
        cn: str,
        *,
        authority: _Issuer,
        ou: tuple[str, ...],
        org: str,
        start: dt.datetime,
        end: dt.datetime,
    ) -> Credential:
        key = ec.generate_private_key(_CURVE)
        cert = _build(
            _name(cn, ou=ou, org=org), key, authority, not_before=start, not_after=end,
            client=True,
        )  # fmt: skip
        credential = _store(self.directory / "clients", label, key, cert, authority)
        self.credentials[label] = credential
        manifest_path = self.directory / _MANIFEST
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["credentials"][label] = _credential_entry(self.directory, credential)
        _write_manifest(self.directory, manifest)
        return credential

    def files(self) -> list[tuple[str, str, Path]]:
        """Every file of the PKI as ``(role, description, path)``, for listings."""
        rows: list[tuple[str, str, Path]] = [
            ("ca-bundle", "root + intermediates (trust anchors)", self.ca_bundle),
            ("root", "TEST AC RACINE IGC-SANTE ELEMENTAIRE", self.root_cert),
            ("foreign-ca", "unrelated CA (negative tests)", self.foreign_ca),
        ]
        for role, credential in [("server", self.server), *self.credentials.items()]:
            rows.append((role, f"certificate CN={credential.subject_cn}", credential.cert_path))
            rows.append((role, "private key (PEM, unencrypted, 0600)", credential.key_path))
            rows.append(
                (role, f"PKCS#12 (password {credential.p12_password!r})", credential.p12_path)
            )
        return rows


# -- helpers ---------------------------------------------------------------------------------


def _aware(moment: dt.datetime | None) -> dt.datetime:
    if moment is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _write_manifest(directory: Path, manifest: Mapping[str, object]) -> None:
    """Replace the manifest atomically (it is what marks the PKI as complete)."""
    temporary = directory / f".{_MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(temporary, directory / _MANIFEST)


def _slug(text: str) -> str:
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in text).strip("-")
    return cleaned or "client"


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _store(
    folder: Path,
    label: str,
    key: ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    issuer: _Issuer,
) -> Credential:
    folder.mkdir(parents=True, exist_ok=True)
    cert_path = folder / f"{label}.crt.pem"
    key_path = folder / f"{label}.key.pem"
    p12_path = folder / f"{label}.p12"
    cert_path.write_bytes(_pem(cert))
    _write_private(key_path, _key_pem(key))
    p12 = pkcs12.serialize_key_and_certificates(
        label.encode(),
        key,
        cert,
        [issuer.cert],
        serialization.BestAvailableEncryption(_P12_PASSWORD.encode()),
    )
    _write_private(p12_path, p12)
    return Credential(cert_path, key_path, p12_path, _P12_PASSWORD, _cn(cert.subject))


def _credential_entry(directory: Path, credential: Credential) -> dict[str, str]:
    return {
        "cert": credential.cert_path.relative_to(directory).as_posix(),
        "key": credential.key_path.relative_to(directory).as_posix(),
        "p12": credential.p12_path.relative_to(directory).as_posix(),
        "password": credential.p12_password,
        "cn": credential.subject_cn,
    }


def _credential_from(directory: Path, entry: dict[str, str]) -> Credential:
    return Credential(
        cert_path=directory / entry["cert"],
        key_path=directory / entry["key"],
        p12_path=directory / entry["p12"],
        p12_password=entry["password"],
        subject_cn=entry["cn"],
    )
