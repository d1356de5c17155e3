"""The consent history of each patient (``DATA/CONSHIST.JSN``): every record the host
keeps (``host_consents``), else the changes recorded through segur (the journal's
``dmp.consent`` and ``dp.consent``); informational: ``segur import`` restores the latest
consent per purpose (``CONSENTS.JSN``) as before."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import segur_portability.plugin as portability_plugin
from hypothesis import given
from hypothesis import strategies as st
from segur_documents.testing import sample_patient
from segur_portability import export_archive, import_archive, verify_archive
from segur_portability.patient import SchemaCheck
from segur_portability.schemas import CONSENT_HISTORY
from segur_portability.sections import dumps, journaled_consents
from segur_portability.signing import signer_for

from hostspecs.reference.host import ReferenceHost
from segur_core.exportdata import INFORMATIONAL
from segur_core.journal.records import JournalRecord
from segur_core.model import Consent

T0 = dt.datetime(2024, 10, 1, 9, tzinfo=dt.UTC)


def _data(path, member: str, section: str):
    with zipfile.ZipFile(path) as top:
        inner = zipfile.ZipFile(io.BytesIO(top.read(member)))
        return json.loads(inner.read(f"DATA/{section.upper()}.JSN"))


def test_every_consent_the_host_keeps_is_exported_and_import_restores_the_latest(
    source, make_runtime, tmp_path
):
    runtime, ids = source
    first = ids[0]
    runtime.host.record_consent(Consent(first, "dmp-access", False, T0, "10999900003", "a"))
    runtime.host.record_consent(Consent(first, "dmp-access", True, T0 + dt.timedelta(days=1)))
    out = export_archive(runtime, tmp_path / "out", signer=signer_for(runtime), source_id="1")
    assert verify_archive(out.path).ok
    history = _data(out.path, "PAT00001.ZIP", "conshist")
    assert [(h["purpose"], h["granted"], h["source"]) for h in history] == [
        ("dmp-access", True, "host"),  # recorded by fill
        ("dp", False, "host"),
        ("dmp-access", False, "host"),
        ("dmp-access", True, "host"),
    ]
    assert history[2]["recorded_by"] == "10999900003" and history[2]["note"] == "a"
    assert history[3]["recorded_by"] is None and history[3]["note"] is None  # not filled in
    assert history[3]["recorded_at"].startswith("2024-10-02T09:00:00")
    assert _data(out.path, "PAT00002.ZIP", "conshist") == []  # none: a negative answer
    latest = _data(out.path, "PAT00001.ZIP", "consents")
    assert [(c["purpose"], c["granted"]) for c in latest] == [("dmp-access", True), ("dp", False)]
    with zipfile.ZipFile(out.path) as top:
        schema = json.loads(top.read("DOCUMENTATION/SCHEMAS/CONSHIST.JSN"))
        english = top.read("DOCUMENTATION/DICO_EN.HTM").decode()
        french = top.read("DOCUMENTATION/DICO_FR.HTM").decode()
    assert schema[INFORMATIONAL] is True
    assert "Consent history" in english and "Historique des consentements" in french

    target = make_runtime()
    imported = import_archive(target, out.path)
    assert imported.consents == 2  # the latest per purpose, as before
    assert target.host.consent(first, "dmp-access") == runtime.host.consent(first, "dmp-access")
    assert target.host.consent(first, "dp") == runtime.host.consent(first, "dp")
    assert len(target.host.consent_history(first)) == 2  # the history stays in the archive


class _NoHistoryHost(ReferenceHost):
    """A host written before ``host_consents``: it gives the latest record only."""

    host_consents = None


def test_without_the_hosts_history_the_journaled_changes_are_exported(make_segur_runtime, tmp_path):
    import segur_dp.plugin as dp_plugin
    from segur_dmp.api import consent as dmp_consent_route
    from segur_dp.service import service_for

    from segur_core.serve.routes import ApiCall

    host = _NoHistoryHost(tmp_path / "host.sqlite")
    runtime = make_segur_runtime(extra_plugins=[portability_plugin, dp_plugin], host=host)
    assert runtime.host.consent_history("x") is None
    patient = runtime.host.save_patient(sample_patient(True))
    service_for(runtime).record_consent(patient.id, False, by="10999900003")
    service_for(runtime).record_consent(patient.id, True)
    runtime.host.record_consent(Consent(patient.id, "dmp-access", False))  # not journaled
    body = {"granted": True, "note": "informed"}  # segur serve's DMP consent route
    dmp_consent_route(ApiCall(runtime, {"patient_id": patient.id}, {}, body, "uid:1000"))
    out = export_archive(runtime, tmp_path / "out", signer=signer_for(runtime), source_id="1")
    assert verify_archive(out.path).ok
    history = _data(out.path, "PAT00001.ZIP", "conshist")
    assert [(h["purpose"], h["granted"], h["source"]) for h in history] == [
        ("dp", False, "journal"),
        ("dp", True, "journal"),
        ("dmp-access", True, "journal"),
    ]
    assert history[0]["recorded_by"] == "10999900003" and history[1]["recorded_by"] is None
    assert history[2]["recorded_by"] == "uid:1000" and history[2]["note"] is None
    latest = _data(out.path, "PAT00001.ZIP", "consents")
    assert {(c["purpose"], c["granted"]) for c in latest} == {("dp", True), ("dmp-access", True)}
    host.close()


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))


@given(
    st.lists(
        st.builds(
            JournalRecord,
            seq=st.integers(1, 100),
            at=st.one_of(st.none(), st.datetimes(timezones=st.just(dt.UTC))),
            action=st.sampled_from(["dmp.consent", "dp.consent", "dp.create"]),
            patient_id=st.just("P1"),
            actor=st.one_of(st.none(), st.text(max_size=8)),
            details=st.dictionaries(
                st.sampled_from(["granted", "purpose", "recorded_by", "other"]), _VALUES
            ),
        ),
        max_size=6,
    )
)
def test_any_journaled_consent_change_follows_the_schema(records) -> None:
    """Whatever a journal record holds (a damaged one included), the history read from
    it follows CONSHIST's schema: the export never refuses a patient for it."""
    found = journaled_consents(records)
    assert SchemaCheck().errors(CONSENT_HISTORY, dumps(found)) == []
    assert len(found) == sum(
        r.action != "dp.create" and isinstance(r.details.get("granted"), bool) for r in records
    )
