"""The message size limit (``[mss] max_message_mb``, 25 MiB by default, Mon Espace
Santé's): a bigger message is refused before it is queued, and a bigger received one is
not downloaded, flagged rejected and journaled."""

from __future__ import annotations

import time

import pytest
from segur_mssante.errors import MessageTooLarge
from segur_mssante.service import REJECTED, service_for

from segur_core.errors import ConfigError


def test_the_default_is_25_mib_and_must_be_positive(make_segur_runtime):
    runtime = make_segur_runtime(autoload=True, plugins=["mss"])
    assert runtime.plugin_config("mss").max_message_bytes == 25 * 1024 * 1024
    with pytest.raises(ConfigError, match="max_message_mb"):
        make_segur_runtime(autoload=True, plugins=["mss"], config={"mss": {"max_message_mb": 0}})


def test_a_message_over_the_limit_is_not_queued(make_segur_runtime, vaccination_cda):
    runtime = make_segur_runtime(
        autoload=True, plugins=["ins", "documents", "mss"], config={"mss": {"max_message_mb": 1}}
    )
    service = service_for(runtime)
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4096  # 1 MiB, 1.4 MiB once in base64
    with pytest.raises(MessageTooLarge, match=r"over the limit of 1 MiB"):
        service.send_document(vaccination_cda, to=["dr@medecin.mssante.test"], pdf=pdf)
    assert runtime.outbox.list() == []  # nothing queued, nothing to retry
    queued = service.send_document(vaccination_cda, to=["dr@medecin.mssante.test"], pdf=pdf[:1000])
    assert runtime.outbox.get(queued.delivery.id) is not None


def test_a_received_message_over_the_limit_is_not_fetched(make_segur_runtime, mail_sandbox):
    from segur_mssante.sandbox.tokens import SandboxTokens
    from segur_mssante.testing import sandbox_table, send_as_patient

    pharmacy = "officine.taille@pharmacie.mssante.test"
    table = sandbox_table(mail_sandbox, pharmacy, "ORG", max_message_mb=0.01)  # 10 KiB
    runtime = make_segur_runtime(autoload=True, plugins=["ins", "mss"], config={"mss": table})
    service = service_for(runtime)
    service.tokens = SandboxTokens(mail_sandbox.tokens)
    send_as_patient(mail_sandbox, "279035121518989", pharmacy, "<photo-big@patient.test>")
    outcomes = []
    deadline = time.monotonic() + 10
    while not outcomes and time.monotonic() < deadline:
        outcomes = service.fetch()
    (outcome,) = outcomes
    assert outcome.flag == REJECTED and "over the limit of 0.01 MiB" in outcome.reason
    assert outcome.kept is None
    assert not [r for r in runtime.journal.records() if r.action == "mss.message-kept"]
    (record,) = [r for r in runtime.journal.records() if r.action == "mss.message-rejected"]
    assert record.details["size"] > 10 * 1024
    assert service.fetch() == []  # flagged: not looked at again
