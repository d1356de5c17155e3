"""The sections read from the journal follow their schema whatever the journal holds: a
record from an older version, a detail of an unexpected type, an unknown code. The
export must never stop on them (a section breaking its schema stops the export)."""

from __future__ import annotations

import uuid

import segur_dp.plugin as dp_plugin
import segur_eprescription.plugin as eprescription_plugin
import segur_ins.plugin as ins_plugin
import segur_mssante.plugin as mss_plugin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segur_core.testing.export import section_records

SECTIONS = ("identhis", "idcheck", "insi", "epread", "epdisp", "dpconsul", "dpdisp")
SECTIONS += ("msssent", "mssrecv")
ACTIONS = [
    "ins.identity", "ins.document-check", "ins.qualify", "ins.verify", "insi.search",
    "eprescription.fetch", "eprescription.dispense", "eprescription.report",
    "dp.history", "dp.create", "dp.consent-missing", "dp.dispensation-queued",
    "mss.send-queued", "mss.document-received", "mss.message-kept", "outbox.attempt",
]  # fmt: skip
KEYS = [
    "source", "reading", "event", "from", "to", "attributes", "ins_changed",
    "traits_changed", "document", "reason", "message_id", "status", "operation", "cr",
    "error", "result", "differences", "decision", "prescription", "done", "allowed",
    "report", "delivery", "partial", "decisions", "ack", "lines", "by", "depth_months",
    "key", "attempt", "document_type", "type", "level", "kit", "kit_errors", "parts",
]  # fmt: skip
SERVICES = [None, "eprescription.dispensation", "dp.dispensation", "mss.send", "insi"]
OUTCOMES = ["ok", "error", "refused", "mismatch", "failed", "delivered", "dead", "retry"]

_scalars = st.none() | st.booleans() | st.integers(-3, 400) | st.text(max_size=12)
_values = st.recursive(
    _scalars | st.sampled_from(["QUAL", "PROV", "CN", "apcv", "00", "nir", "valid"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip
_records = st.lists(
    st.fixed_dictionaries(
        {
            "action": st.sampled_from(ACTIONS),
            "outcome": st.sampled_from(OUTCOMES) | st.text(min_size=1, max_size=8),
            "service": st.sampled_from(SERVICES),
            "details": st.dictionaries(
                st.sampled_from(KEYS) | st.text(max_size=6), _values, max_size=8
            ),
        }
    ),
    min_size=1,
    max_size=6,
)


def test_any_journal_records_give_sections_that_follow_their_schemas(make_segur_runtime):
    runtime = make_segur_runtime(
        extra_plugins=[ins_plugin, dp_plugin, eprescription_plugin, mss_plugin]
    )

    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_records)
    def check(entries):
        patient_id = f"P-{uuid.uuid4().hex[:12]}"
        runtime.journal.record_many([{**entry, "patient_id": patient_id} for entry in entries])
        section_records(runtime, patient_id, SECTIONS)

    check()
