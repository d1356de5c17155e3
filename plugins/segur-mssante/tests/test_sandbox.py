"""The sandbox is a real mail server: STARTTLS with TLS ≥ 1.2, XOAUTH2 checked against the
stand-in Pro Santé Connect key, EXTERNAL from a test-PKI certificate, submission relayed
with its DSN parameters, delivery by LMTP and RFC 3464 reports. Plain stdlib clients, so
these tests hold whatever segur's own client does."""

from __future__ import annotations

import imaplib
import smtplib
import ssl
import subprocess
import time

import pytest
from segur_mssante.testing import APP_ADDRESS, DOCTOR_ADDRESS, PER_ADDRESS


def _context(pki, credential=None):
    context = ssl.create_default_context(cafile=str(pki.ca_bundle))
    context.check_hostname = False
    if credential is not None:
        chosen = pki.client(credential)
        context.load_cert_chain(chosen.cert_path, chosen.key_path)
    return context


def _imap(sandbox, credential=None):
    client = imaplib.IMAP4("127.0.0.1", sandbox.imap_port)
    client.starttls(_context(sandbox.pki, credential))
    return client


def _xoauth2(address, token):
    return f"user={address}\x01auth=Bearer {token}\x01\x01".encode()


def test_no_authentication_before_starttls(mail_sandbox):
    client = imaplib.IMAP4("127.0.0.1", mail_sandbox.imap_port)
    assert "LOGINDISABLED" in client.capabilities and "STARTTLS" in client.capabilities
    with pytest.raises(imaplib.IMAP4.error):
        client.authenticate("XOAUTH2", lambda _: _xoauth2(PER_ADDRESS, "x"))
    client.shutdown()


def test_tls_is_at_least_1_2(mail_sandbox):
    """The server is configured for TLS ≥ 1.2 (the system OpenSSL here refuses older
    versions on both sides anyway, so an old-version handshake proves nothing)."""
    done = subprocess.run(
        ["doveconf", "-c", str(mail_sandbox.directory / "dovecot.conf"), "ssl_min_protocol"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "ssl_min_protocol = TLSv1.2"
    client = _imap(mail_sandbox)
    assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
    client.shutdown()


def test_xoauth2_with_a_valid_token(mail_sandbox):
    client = _imap(mail_sandbox)
    token = mail_sandbox.tokens.issue(PER_ADDRESS)
    assert client.authenticate("XOAUTH2", lambda _: _xoauth2(PER_ADDRESS, token))[0] == "OK"
    assert client.select("INBOX")[0] == "OK"
    client.logout()


@pytest.mark.parametrize(
    "token",
    [
        lambda tokens: tokens.issue(PER_ADDRESS, forged=True),
        lambda tokens: tokens.issue(PER_ADDRESS, lifetime=-60),
        lambda tokens: tokens.issue(DOCTOR_ADDRESS),
        lambda tokens: "not-a-jwt",
    ],
    ids=["forged", "expired", "someone-else", "garbage"],
)
def test_xoauth2_refusals(mail_sandbox, token):
    client = _imap(mail_sandbox)
    value = token(mail_sandbox.tokens)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        client.authenticate("XOAUTH2", lambda _: _xoauth2(PER_ADDRESS, value))


def test_external_takes_the_user_from_the_certificate(mail_sandbox):
    client = _imap(mail_sandbox, "mss-app")
    assert client.authenticate("EXTERNAL", lambda _: b"")[0] == "OK"
    client.logout()


@pytest.mark.parametrize("credential", [None, "foreign"])
def test_external_without_a_trusted_certificate_is_refused(mail_sandbox, credential):
    client = imaplib.IMAP4("127.0.0.1", mail_sandbox.imap_port)
    try:
        client.starttls(_context(mail_sandbox.pki, credential))
    except (ssl.SSLError, OSError):
        return  # refused at the handshake: refused too
    with pytest.raises(imaplib.IMAP4.error):
        client.authenticate("EXTERNAL", lambda _: b"")


def _inbox(sandbox, address, wanted, timeout=10.0):
    """The raw messages of ``address``'s INBOX once it holds ``wanted`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        client = _imap(sandbox)
        token = sandbox.tokens.issue(address)
        client.authenticate("XOAUTH2", lambda _, token=token: _xoauth2(address, token))
        client.select("INBOX", readonly=True)
        numbers = client.search(None, "ALL")[1][0].split()
        if len(numbers) >= wanted or time.monotonic() > deadline:
            found = [client.fetch(n, "(RFC822)")[1][0][1] for n in numbers]
            client.logout()
            return found
        client.logout()
        time.sleep(0.1)


def test_submission_relays_with_dsn_and_reports_a_bounce(mail_sandbox):
    sender = "dsn.test@pharmacie.mssante.test"
    rcpt = "dsn.dest@medecin.mssante.test"
    smtp = smtplib.SMTP("127.0.0.1", mail_sandbox.submission_port)
    smtp.starttls(context=_context(mail_sandbox.pki))
    token = mail_sandbox.tokens.issue(sender)
    smtp.auth("XOAUTH2", lambda _=None: _xoauth2(sender, token).decode(), initial_response_ok=False)
    message = (
        f"From: {sender}\r\nTo: {rcpt}\r\nSubject: essai\r\nMessage-ID: <dsn-1@segur.test>\r\n"
        "\r\nbonjour\r\n"
    ).encode()
    smtp.sendmail(
        sender,
        [rcpt, "personne@inconnu.mssante.test"],
        message,
        mail_options=["RET=HDRS", "ENVID=dsn-1"],
        rcpt_options=["NOTIFY=SUCCESS,FAILURE"],
    )
    smtp.quit()
    relayed = mail_sandbox.relay.received[-1]
    assert relayed.mail_dsn == {"RET": "HDRS", "ENVID": "dsn-1"}
    assert [d["NOTIFY"] for d in relayed.rcpt_dsn] == ["SUCCESS,FAILURE"] * 2
    assert b"<dsn-1@segur.test>" in _inbox(mail_sandbox, rcpt, 1)[0]
    reports = _inbox(mail_sandbox, sender, 2)
    actions = sorted(
        line for r in reports for line in r.decode().splitlines() if line.startswith("Action:")
    )
    assert actions == ["Action: delivered", "Action: failed"]
    assert all(b"report-type=delivery-status" in r for r in reports)


def test_the_app_mailbox_submits_with_its_certificate(mail_sandbox):
    smtp = smtplib.SMTP("127.0.0.1", mail_sandbox.submission_port)
    smtp.starttls(context=_context(mail_sandbox.pki, "mss-app"))
    code, _ = smtp.docmd("AUTH", "EXTERNAL =")
    assert code == 235
    smtp.sendmail(APP_ADDRESS, ["app.dest@medecin.mssante.test"], b"Subject: x\r\n\r\nx\r\n")
    smtp.quit()
    assert _inbox(mail_sandbox, "app.dest@medecin.mssante.test", 1)
