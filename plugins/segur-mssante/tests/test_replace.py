""" "Annule et remplace" end to end: the pharmacy validates a note de vaccination, sends
it, validates a new version and sends it as replacing the first message; the physician's
software fetches both through the real mail server and keeps the new version, the old
one marked replaced. Out of order (the new version first), the old one arrives replaced."""

from __future__ import annotations

import datetime as dt
import time

from segur_mssante.receive import IMPORTED
from segur_mssante.sandbox.tokens import SandboxTokens
from segur_mssante.service import IMPORTED_FLAG, service_for
from segur_mssante.testing import sandbox_table

from segur_core.model import DocumentStatus

XSD_ONLY = {"documents": {"schematron": False}}
PLUGINS = ["ins", "documents", "mss"]


def _runtime(make_segur_runtime, sandbox, address):
    runtime = make_segur_runtime(
        autoload=True,
        plugins=PLUGINS,
        config={**XSD_ONLY, "mss": sandbox_table(sandbox, address, "PER")},
    )
    service = service_for(runtime)
    service.tokens = SandboxTokens(sandbox.tokens)
    return runtime, service


def test_a_new_version_replaces_the_old_one_for_the_receiver(make_segur_runtime, mail_sandbox):
    from segur_documents.demo import demo_contents
    from segur_documents.service import DocumentService
    from segur_documents.testing import sample_patient

    physician = "dr.remplace@medecin.mssante.test"
    pharmacy_rt, pharmacy = _runtime(
        make_segur_runtime, mail_sandbox, "officine.remplace@pharmacie.mssante.test"
    )
    documents = DocumentService(pharmacy_rt)
    patient = pharmacy_rt.host.save_patient(sample_patient(True))
    vaccination = demo_contents(dt.date(2024, 10, 2))["vaccination"]
    first = documents.validate(documents.draft(patient, vaccination).document)
    sent = pharmacy.send_document(first.content, to=[physician])
    second = documents.validate(documents.draft(patient, vaccination, previous=first).document)
    assert second.replaces == first.id and second.set_id == first.set_id
    pharmacy.send_document(second.content, to=[physician], replaces=sent.message_id)
    assert pharmacy_rt.outbox.run_until_idle(timeout=30)

    runtime, doctor = _runtime(make_segur_runtime, mail_sandbox, physician)
    own = runtime.host.save_patient(sample_patient(True))  # the physician's own record
    outcomes = []
    deadline = time.monotonic() + 15
    while len(outcomes) < 2 and time.monotonic() < deadline:
        outcomes += doctor.fetch()
    assert [o.flag for o in outcomes] == [IMPORTED_FLAG, IMPORTED_FLAG]
    assert [d.outcome for o in outcomes for r in o.reports for d in r.documents] == [IMPORTED] * 2
    kept = {d.id: d for d in runtime.host.list_documents(own.id)}
    assert kept[first.id].status is DocumentStatus.REPLACED
    assert kept[second.id].status is DocumentStatus.RECEIVED
    assert kept[second.id].replaces == first.id
    replaced = [r.details for r in runtime.journal.records() if r.action == "mss.document-replaced"]
    assert replaced == [{"document": first.id, "by": second.id}]

    # the new version first (another way in): the old one is stored already replaced
    other = make_segur_runtime(autoload=True, plugins=PLUGINS, config=XSD_ONLY)
    mine = other.host.save_patient(sample_patient(True))
    from segur_core.xdm import Issuer, write_xdm

    for document in (second, first):
        archive = write_xdm([document.content], issuer=Issuer("1", "X"), source_id="1.2.3")
        service_for(other).import_archive(archive)
    statuses = {d.id: d.status for d in other.host.list_documents(mine.id)}
    assert statuses == {first.id: DocumentStatus.REPLACED, second.id: DocumentStatus.RECEIVED}
