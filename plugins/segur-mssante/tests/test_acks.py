"""Delivery status notifications (RFC 3464) and read receipts (RFC 8098) read from
reports, and the per-recipient status they update."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st
from segur_mssante.acks import Ack, StatusStore, read_acks

from segur_core.errors import InputError

DSN = b"""From: MAILER-DAEMON@mta.test\r
To: app@pharmacie.test\r
Subject: Delivery Status Notification (Failure)\r
In-Reply-To: <m1@pharmacie.test>\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r
\r
--b\r
Content-Type: text/plain\r
\r
Not delivered.\r
--b\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mta.test\r
Original-Envelope-Id: m1@pharmacie.test\r
\r
Final-Recipient: rfc822; Dr@Medecin.test\r
Action: failed\r
Status: 5.1.1\r
\r
Final-Recipient: rfc822; other@medecin.test\r
Action: delivered\r
Status: 2.0.0\r
--b--\r
"""

MDN = b"""From: dr@medecin.test\r
To: app@pharmacie.test\r
Subject: Lu\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r
\r
--b\r
Content-Type: text/plain\r
\r
Read.\r
--b\r
Content-Type: message/disposition-notification\r
\r
Final-Recipient: rfc822; dr@medecin.test\r
Original-Message-ID: <m1@pharmacie.test>\r
Disposition: automatic-action/MDN-sent-automatically; processed\r
--b--\r
"""


def test_dsn_and_mdn_are_read():
    assert read_acks(DSN) == [
        Ack("<m1@pharmacie.test>", "dr@medecin.test", "failed", "5.1.1"),
        Ack("<m1@pharmacie.test>", "other@medecin.test", "delivered", "2.0.0"),
    ]
    (ack,) = read_acks(MDN)
    assert (ack.message_id, ack.recipient, ack.state) == (
        "<m1@pharmacie.test>",
        "dr@medecin.test",
        "read",
    )
    error = MDN.replace(b"; processed", b"; processed/Error: 5^Integration impossible")
    assert read_acks(error)[0].state == "failed"
    assert read_acks(b"Subject: hello\r\n\r\nbody") == []


def test_status_store_applies_acks_in_order(tmp_path):
    store = StatusStore(tmp_path / "status.sqlite")
    assert oct((tmp_path / "status.sqlite").stat().st_mode & 0o777) == "0o600"
    store.queued("<m1@p>", ["Dr@Medecin.test", "other@medecin.test"])
    assert store.apply(Ack("<m1@p>", "dr@medecin.test", "read", "processed"))
    assert store.apply(Ack("<m1@p>", "dr@medecin.test", "delivered", "2.0.0"))  # late DSN
    assert not store.apply(Ack("<unknown@p>", "dr@medecin.test", "delivered"))
    states = {row.recipient: row.state for row in store.of("<m1@p>")}
    assert states == {"dr@medecin.test": "read", "other@medecin.test": "queued"}
    store.close()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_give_acks_or_a_typed_error(data):
    with contextlib.suppress(InputError):
        for ack in read_acks(data):
            assert isinstance(ack, Ack)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_reports_give_acks_or_a_typed_error(data):
    report = bytearray(data.draw(st.sampled_from([DSN, MDN])))
    for _ in range(data.draw(st.integers(1, 6))):
        report[data.draw(st.integers(0, len(report) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(InputError):
        read_acks(bytes(report))


def test_our_read_receipts_read_back():
    from segur_mssante.mdn import PATIENT_UNKNOWN, build_mdn

    original = b"Message-ID: <m9@medecin.test>\r\nSubject: XDM/1.0/DDM+Note\r\n\r\nx\r\n"
    common = {
        "reporter": "app@pharmacie.test",
        "recipient": "dr@medecin.test",
        "original_id": "<m9@medecin.test>",
        "subject": "XDM/1.0/DDM+Note",
        "message_id": "<r1@pharmacie.test>",
    }
    (ok,) = read_acks(build_mdn(original, **common))
    assert (ok.message_id, ok.recipient, ok.state) == (
        "<m9@medecin.test>",
        "app@pharmacie.test",
        "read",
    )
    failed = build_mdn(original, error=PATIENT_UNKNOWN, **common)
    (ko,) = read_acks(failed)
    assert ko.state == "failed" and "Error: 2^" in ko.detail
    import email
    from email.policy import default

    subject = str(email.message_from_bytes(failed, policy=default)["Subject"])
    assert subject.startswith("[KO Intégration système !][2]XDM/1.0/DDM+")
