"""The test PKI: shape of the hierarchy, subjects, formats, idempotence."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from segur_core.errors import TLSConfigError
from segur_core.testing.pki import CPS_IDNAT, STRUCTURE_IDNAT, TestPKI


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _cn(name: x509.Name) -> str:
    return name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def _bundle(pki: TestPKI) -> dict[str, x509.Certificate]:
    certs = x509.load_pem_x509_certificates(pki.ca_bundle.read_bytes())
    return {_cn(cert.subject): cert for cert in certs}


def test_hierarchy_is_igc_sante_like_and_marked_test(pki: TestPKI) -> None:
    bundle = _bundle(pki)
    assert set(bundle) == {
        "TEST AC RACINE IGC-SANTE ELEMENTAIRE",
        "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS",
        "TEST AC IGC-SANTE ELEMENTAIRE PERSONNES",
    }
    root = bundle["TEST AC RACINE IGC-SANTE ELEMENTAIRE"]
    assert root.issuer == root.subject
    for name in ("ORGANISATIONS", "PERSONNES"):
        inter = bundle[f"TEST AC IGC-SANTE ELEMENTAIRE {name}"]
        assert inter.issuer == root.subject
        inter.verify_directly_issued_by(root)
        assert inter.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_every_credential_chains_to_its_issuer(pki: TestPKI) -> None:
    bundle = _bundle(pki)
    organisations = bundle["TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"]
    persons = bundle["TEST AC IGC-SANTE ELEMENTAIRE PERSONNES"]
    for name in ("structure", "insi-auto", "insi-manu", "expired", "not-yet-valid"):
        _cert(pki.client(name).cert_path).verify_directly_issued_by(organisations)
    _cert(pki.client("cps").cert_path).verify_directly_issued_by(persons)
    _cert(pki.server_cert).verify_directly_issued_by(organisations)
    foreign = _cert(pki.client("foreign").cert_path)
    assert foreign.issuer not in {cert.subject for cert in bundle.values()}
    foreign.verify_directly_issued_by(_cert(pki.foreign_ca))


def test_subjects_carry_the_national_identifiers(pki: TestPKI) -> None:
    assert pki.client("insi-auto").subject_cn == "INSI-AUTO"
    assert pki.client("insi-manu").subject_cn == "INSI-MANU"
    for name in ("structure", "insi-auto", "insi-manu"):
        subject = _cert(pki.client(name).cert_path).subject
        units = [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
        assert STRUCTURE_IDNAT in units
        assert STRUCTURE_IDNAT.startswith("1") and len(STRUCTURE_IDNAT) == 10
    cps = _cert(pki.client("cps").cert_path)
    assert _cn(cps.subject) == CPS_IDNAT
    assert CPS_IDNAT.startswith("8") and len(CPS_IDNAT) == 12


def test_server_certificate_names_loopback(pki: TestPKI) -> None:
    server = _cert(pki.server_cert)
    alt = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in alt.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in [str(ip) for ip in alt.get_values_for_type(x509.IPAddress)]
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage


def test_validity_windows(pki: TestPKI) -> None:
    now = dt.datetime.now(dt.UTC)
    assert _cert(pki.client("expired").cert_path).not_valid_after_utc < now
    assert _cert(pki.client("not-yet-valid").cert_path).not_valid_before_utc > now
    valid = _cert(pki.client("insi-auto").cert_path)
    assert valid.not_valid_before_utc < now < valid.not_valid_after_utc


def test_pkcs12_holds_key_certificate_and_chain(pki: TestPKI) -> None:
    credential = pki.client("insi-auto")
    data = credential.p12_path.read_bytes()
    key, cert, chain = pkcs12.load_key_and_certificates(data, credential.p12_password.encode())
    assert cert == _cert(credential.cert_path)
    assert key is not None and key.public_key() == cert.public_key()
    assert [_cn(c.subject) for c in chain] == ["TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"]
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(data, b"wrong")


def test_keys_are_private_to_the_owner(pki: TestPKI) -> None:
    for credential in (pki.server, pki.client("cps")):
        for path in (credential.key_path, credential.p12_path):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_create_is_idempotent(tmp_path: Path) -> None:
    first = TestPKI.create(tmp_path)
    before = first.ca_bundle.read_bytes()
    second = TestPKI.create(tmp_path)
    assert second.ca_bundle.read_bytes() == before
    assert second.client("cps") == first.client("cps")


def test_issue_client_with_custom_validity(tmp_path: Path) -> None:
    pki = TestPKI.create(tmp_path)
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    credential = pki.issue_client(
        "CUSTOM", not_before=start, not_after=start + dt.timedelta(days=10)
    )
    cert = _cert(credential.cert_path)
    assert cert.not_valid_before_utc == start
    assert credential.subject_cn == "CUSTOM"
    assert TestPKI.create(tmp_path).client("custom") == credential  # persisted


def test_unknown_credential_is_a_typed_error(pki: TestPKI) -> None:
    with pytest.raises(TLSConfigError, match="known credentials"):
        pki.client("nope")


def test_issue_client_refuses_path_like_names(pki: TestPKI) -> None:
    for bad in ("../evil", "a/b", ".hidden"):
        with pytest.raises(TLSConfigError, match="invalid"):
            pki.issue_client("X", name=bad)


def test_expired_hierarchy_is_regenerated(tmp_path: Path) -> None:
    old = TestPKI.create(tmp_path, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    old_bundle = old.ca_bundle.read_bytes()
    fresh = TestPKI.create(tmp_path)
    assert fresh.ca_bundle.read_bytes() != old_bundle
    server = _cert(fresh.server_cert)
    assert server.not_valid_after_utc > dt.datetime.now(dt.UTC)
