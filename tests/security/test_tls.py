"""Client/server TLS contexts, PKCS#12 loading and certificate expiry warnings."""

from __future__ import annotations

import datetime as dt
import os
import ssl
import tempfile
from pathlib import Path

import pytest

from segur_core.errors import TLSConfigError
from segur_core.testing.pki import TestPKI
from segur_core.tls import (
    certificate_warnings,
    client_context,
    load_pkcs12,
    server_context,
)


def test_load_pkcs12(pki: TestPKI) -> None:
    credential = pki.client("cps")
    key, cert, chain = load_pkcs12(credential.p12_path, credential.p12_password)
    assert cert.public_key() == key.public_key()
    assert len(chain) == 1


def test_wrong_password_is_actionable(pki: TestPKI) -> None:
    credential = pki.client("insi-auto")
    with pytest.raises(TLSConfigError, match="wrong password") as caught:
        load_pkcs12(credential.p12_path, "not the password")
    assert caught.value.hint


def test_missing_file_is_actionable(tmp_path: Path, pki: TestPKI) -> None:
    with pytest.raises(TLSConfigError, match="not found"):
        load_pkcs12(tmp_path / "absent.p12", "x")
    with pytest.raises(TLSConfigError, match="not found"):
        client_context(ca_bundle=tmp_path / "absent.pem")


def test_garbage_ca_bundle_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(b"not a certificate")
    with pytest.raises(TLSConfigError, match="not a PEM or DER"):
        client_context(ca_bundle=bundle)


def test_client_context_is_strict(pki: TestPKI) -> None:
    credential = pki.client("insi-auto")
    context = client_context(
        ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
    )
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_expired_client_certificate_is_refused_locally(pki: TestPKI) -> None:
    expired = pki.client("expired")
    with pytest.raises(TLSConfigError, match="expired"):
        client_context(ca_bundle=pki.ca_bundle, pkcs12=expired.p12_path,
                       password=expired.p12_password)  # fmt: skip
    with pytest.raises(TLSConfigError, match="not valid before"):
        future = pki.client("not-yet-valid")
        client_context(ca_bundle=pki.ca_bundle, cert=future.cert_path, key=future.key_path)


def test_mismatched_key_is_refused(pki: TestPKI) -> None:
    with pytest.raises(TLSConfigError, match="key"):
        client_context(
            ca_bundle=pki.ca_bundle,
            cert=pki.client("cps").cert_path,
            key=pki.client("structure").key_path,
        )


def test_pkcs12_loading_leaves_no_key_file(pki: TestPKI, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    credential = pki.client("insi-auto")
    client_context(
        ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
    )
    assert os.listdir(tmp_path) == []


def test_server_requires_a_ca_bundle_for_client_certificates(pki: TestPKI) -> None:
    with pytest.raises(TLSConfigError, match="CA bundle"):
        server_context(pki.server_cert, pki.server_key, None)
    context = server_context(pki.server_cert, pki.server_key, pki.ca_bundle)
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_certificate_warnings(pki: TestPKI, tmp_path: Path) -> None:
    valid = pki.client("insi-auto")
    warnings = certificate_warnings(
        [
            valid.cert_path,
            pki.client("expired").cert_path,
            (pki.client("not-yet-valid").p12_path, pki.client("not-yet-valid").p12_password),
            (valid.p12_path, "wrong"),
            tmp_path / "absent.pem",
            pki.ca_bundle,
        ]
    )
    kinds = sorted(w.kind for w in warnings)
    assert kinds == ["expired", "not-yet-valid", "unreadable", "unreadable"]
    assert all(w.message for w in warnings)


def test_certificate_expiring_within_the_window(pki: TestPKI) -> None:
    valid = pki.client("insi-auto")
    from cryptography import x509

    end = x509.load_pem_x509_certificate(valid.cert_path.read_bytes()).not_valid_after_utc
    near = end - dt.timedelta(days=10)
    assert [w.kind for w in certificate_warnings([valid.cert_path], now=near)] == ["expires-soon"]
    far = end - dt.timedelta(days=31)
    assert certificate_warnings([valid.cert_path], now=far) == []
    assert certificate_warnings([valid.cert_path], now=far, days=60)[0].kind == "expires-soon"


def test_pkcs12_key_is_encrypted_while_on_disk(pki: TestPKI, monkeypatch) -> None:
    """The short-lived file handed to ssl holds an encrypted key, readable by owner only."""
    seen: list[tuple[str, int]] = []
    original = ssl.SSLContext.load_cert_chain

    def spy(self, certfile, keyfile=None, password=None):
        path = Path(certfile)
        seen.append((path.read_text(), path.stat().st_mode & 0o777))
        return original(self, certfile, keyfile, password)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    credential = pki.client("insi-auto")
    client_context(
        ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
    )
    [(content, mode)] = seen
    assert "BEGIN ENCRYPTED PRIVATE KEY" in content
    assert "BEGIN PRIVATE KEY" not in content
    assert mode == 0o600
