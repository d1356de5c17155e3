"""Sending through the real server: a document queued in the outbox is submitted over
STARTTLS (certificate + EXTERNAL, or XOAUTH2 with a refreshed token) and read back over
IMAP with its MSSanté headers, archive and DSN; refusals are outcomes."""

from __future__ import annotations

import email
import imaplib
import re
import socket
import time
from email.policy import default

import pytest
from segur_mssante.errors import MessageError
from segur_mssante.sandbox.tokens import SandboxTokens
from segur_mssante.service import SEND_KIND, service_for
from segur_mssante.testing import APP_ADDRESS, DOCTOR_ADDRESS, PER_ADDRESS, sandbox_table
from segur_mssante.tokens import xoauth2

from segur_core.model import DeliveryState
from segur_core.xdm import read_xdm


def _runtime(make_segur_runtime, sandbox, *, address=APP_ADDRESS, kind="APP"):
    table = sandbox_table(
        sandbox, address, kind, display_name="Dr_Claire_DURAND_Pharmacie du Centre"
    )
    runtime = make_segur_runtime(
        autoload=True, plugins=["ins", "documents", "mss"], config={"mss": table}
    )
    service = service_for(runtime)
    service.tokens = SandboxTokens(sandbox.tokens)
    return runtime, service


def _messages(sandbox, address, wanted=1, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        client = imaplib.IMAP4("127.0.0.1", sandbox.imap_port)
        import ssl

        context = ssl.create_default_context(cafile=str(sandbox.pki.ca_bundle))
        context.check_hostname = False
        client.starttls(context)
        token = sandbox.tokens.issue(address)
        client.authenticate("XOAUTH2", lambda _, t=token: xoauth2(address, t).encode())
        client.select("INBOX", readonly=True)
        numbers = client.search(None, "ALL")[1][0].split()
        if len(numbers) >= wanted or time.monotonic() > deadline:
            found = [
                email.message_from_bytes(client.fetch(n, "(RFC822)")[1][0][1], policy=default)
                for n in numbers
            ]
            client.logout()
            return found
        client.logout()
        time.sleep(0.1)


def test_send_round_trip_with_a_certificate(make_segur_runtime, mail_sandbox, vaccination_cda):
    runtime, service = _runtime(make_segur_runtime, mail_sandbox)
    doctor = "rt.cert@medecin.mssante.test"
    queued = service.send_document(vaccination_cda, to=[doctor], read_receipt=True)
    assert runtime.outbox.enqueue(SEND_KIND, queued.message_id, b"again").id == queued.delivery.id
    assert runtime.outbox.run_until_idle(timeout=30)
    assert runtime.outbox.get(queued.delivery.id).state is DeliveryState.DELIVERED
    (received,) = _messages(mail_sandbox, doctor)
    assert received["Message-ID"] == queued.message_id
    assert received["Subject"].startswith("XDM/1.0/DDM+NOTE DE VACCINATION ")
    assert received["X-MSS-CODECDA"] == "87273-9"
    assert received["X-MSS-INS"] == "O"
    assert received["X-MSS-NIL"] == "SEGUR-SANDBOX"
    assert received["X-MSS-MES"] is None
    assert received["Disposition-Notification-To"] == APP_ADDRESS
    assert received["From"].addresses[0].addr_spec == APP_ADDRESS
    text = received.get_body(("plain",))
    assert text.get_content_charset() == "utf-8" and "IHE_XDM.ZIP" in text.get_content()
    (zipped,) = [p for p in received.iter_attachments() if p.get_filename() == "IHE_XDM.ZIP"]
    (document,) = read_xdm(zipped.get_content()).documents
    assert document.content == vaccination_cda
    # the DSN asked at submission came back to the sender
    reports = _messages(mail_sandbox, APP_ADDRESS, 1)
    assert any(
        r["In-Reply-To"] == queued.message_id and "Action: delivered" in r.as_string()
        for r in reports
    )


def test_send_with_xoauth2_refreshes_an_expired_token(
    make_segur_runtime, mail_sandbox, vaccination_cda
):
    runtime, service = _runtime(make_segur_runtime, mail_sandbox, address=PER_ADDRESS, kind="PER")
    service.tokens.expired = True
    doctor = "rt.oauth@medecin.mssante.test"
    queued = service.send_document(vaccination_cda, to=[doctor], end=False, pdf=b"%PDF-1.4 x")
    assert runtime.outbox.run_until_idle(timeout=30)
    assert runtime.outbox.get(queued.delivery.id).state is DeliveryState.DELIVERED
    assert service.tokens.refreshes == 1
    (received,) = _messages(mail_sandbox, doctor)
    parts = {p.get_filename(): p for p in received.iter_attachments()}
    (pdf,) = [name for name in parts if name != "IHE_XDM.ZIP"]
    assert re.fullmatch(r"\d{8}_[A-Za-z0-9-]+_[A-Z0-9-]+_[A-Za-z0-9-]+_[A-Za-z0-9-]+\.pdf", pdf)
    assert parts[pdf].get_content_type() == "application/pdf"
    assert parts[pdf].get_content() == b"%PDF-1.4 x"


def test_refused_refresh_ends_the_session(make_segur_runtime, mail_sandbox, vaccination_cda):
    from segur_mssante.errors import MSSAuthError
    from segur_mssante.transport import smtp_session

    _, service = _runtime(make_segur_runtime, mail_sandbox, address=PER_ADDRESS, kind="PER")
    service.tokens.expired = True
    service.tokens.refuse_refresh = True
    with (
        pytest.raises(MSSAuthError, match="refresh"),
        smtp_session(service.server, service.mailbox, service.tokens),
    ):
        pass


def test_patient_mailbox_only_from_a_qualified_ins(
    make_segur_runtime, mail_sandbox, vaccination_cda
):
    from segur_documents.testing import sample_patient

    runtime, service = _runtime(make_segur_runtime, mail_sandbox)
    with pytest.raises(MessageError, match="qualified INS"):
        service.send_document(vaccination_cda, patient=sample_patient(qualified=False))
    queued = service.send_document(
        vaccination_cda, to=[DOCTOR_ADDRESS], patient=sample_patient(qualified=True), end=True
    )
    assert queued.recipients[-1] == "279035121518989@patient.mssante.fr"
    assert runtime.outbox.run_until_idle(timeout=30)
    (received,) = _messages(mail_sandbox, "279035121518989@patient.mssante.fr")
    assert received["X-MSS-MES"] == "FIN" and received["X-MSS-INS"] == "O"


def test_a_bounce_is_an_outcome(make_segur_runtime, mail_sandbox, vaccination_cda):
    runtime, service = _runtime(make_segur_runtime, mail_sandbox)
    queued = service.send_document(vaccination_cda, to=["personne@inconnu.mssante.test"])
    assert runtime.outbox.run_until_idle(timeout=30)
    assert runtime.outbox.get(queued.delivery.id).state is DeliveryState.DELIVERED
    reports = _messages(mail_sandbox, APP_ADDRESS, 1)
    assert any(
        r["In-Reply-To"] == queued.message_id and "Action: failed" in r.as_string() for r in reports
    )


def test_deliveries_share_one_session_and_survive_a_dropped_one(
    make_segur_runtime, mail_sandbox, vaccination_cda
):
    runtime, service = _runtime(make_segur_runtime, mail_sandbox)
    doctor = "rt.session@medecin.mssante.test"
    first = [service.send_document(vaccination_cda, to=[doctor]) for _ in range(3)]
    assert runtime.outbox.run_until_idle(timeout=30)
    assert service.logins == 1
    service._local.smtp.sock.shutdown(socket.SHUT_RDWR)  # the connection dropped
    last = service.send_document(vaccination_cda, to=[doctor])
    assert runtime.outbox.run_until_idle(timeout=30)
    assert service.logins == 2, runtime.outbox.get(last.delivery.id)
    for queued in [*first, last]:
        assert runtime.outbox.get(queued.delivery.id).state is DeliveryState.DELIVERED
    ids = sorted(str(m["Message-ID"]) for m in _messages(mail_sandbox, doctor, 4))
    assert ids == sorted(q.message_id for q in [*first, last])
