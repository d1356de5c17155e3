"""The HTTPS adapter against the sandbox DP over mutual TLS: consent semantics, history
filtered by depth, dispensations once per key, alerts and recalls acknowledged."""

from __future__ import annotations

import datetime as dt
import ssl

import pytest
from segur_dp.depth import Category, Depth
from segur_dp.errors import DPRefused, DPUnavailable, NoDossier
from segur_dp.https import HttpsAdapter
from segur_dp.model import DispensationRecord, DPPatient
from segur_dp.testing import line_aged

from segur_core.tls import client_context
from segur_core.wire.errors import ServerCertificateError

PHARMACY = "750000001"
NOW = dt.datetime.now(dt.UTC)


def _since(depth: Depth | None = None) -> dict[Category, dt.datetime]:
    depth = depth or Depth()
    return {c: depth.since(c, NOW) for c in Category}


def test_no_history_without_a_dossier_then_created_with_consent(adapter):
    patient = DPPatient("1850575123001")
    with pytest.raises(NoDossier) as caught:
        adapter.history(patient, _since())
    assert "1850575123001" not in str(caught.value) and caught.value.hint
    assert adapter.create(patient, consent=True, pharmacy=PHARMACY).status == "created"
    assert adapter.create(patient, consent=True, pharmacy=PHARMACY).status == "exists"
    assert adapter.history(patient, _since()) == ()


def test_a_refusal_is_recorded_and_nothing_is_read_or_written(adapter, dp):
    patient = DPPatient("2850575123002")
    assert adapter.create(patient, consent=False, pharmacy=PHARMACY).status == "refused"
    assert dp.store.consent(patient.nir, 1) is False
    with pytest.raises(DPRefused) as caught:
        adapter.history(patient, _since())
    assert caught.value.code == "consent-refused"
    record = DispensationRecord("k-refused", patient, line_aged(1))
    with pytest.raises(DPRefused):
        adapter.record(record, pharmacy=PHARMACY)
    assert dp.store.count_lines("k-refused") == 0


def test_history_is_filtered_by_the_depth_asked_per_category(adapter):
    patient = DPPatient("1700175123003")
    adapter.create(patient, consent=True, pharmacy=PHARMACY)
    ages = {  # days ago, by category
        Category.ORDINARY: (10, 200, 350, 400),
        Category.BIOLOGICAL: (300, 1000, 1200),
        Category.VACCINE: (2000, 7000, 7800),
    }
    for category, days in ages.items():
        for n in days:
            line = line_aged(n, category, now=NOW, product_code=f"34009{n:08d}")
            assert (
                adapter.record(
                    DispensationRecord(f"k3-{category}-{n}", patient, line), pharmacy=PHARMACY
                )
                == "recorded"
            )
    full = adapter.history(patient, _since())
    assert sorted((line.category, (NOW - line.dispensed_at).days) for line in full) == sorted(
        [(Category.ORDINARY, d) for d in (10, 200, 350)]
        + [(Category.BIOLOGICAL, d) for d in (300, 1000)]
        + [(Category.VACCINE, d) for d in (2000, 7000)]
    )
    assert [line.dispensed_at for line in full] == sorted(
        (line.dispensed_at for line in full), reverse=True
    )
    three = adapter.history(patient, _since(Depth().capped(3)))
    assert [(NOW - line.dispensed_at).days for line in three] == [10]


def test_a_dispensation_is_written_once_per_key(adapter, dp):
    patient = DPPatient("1700175123004")
    adapter.create(patient, consent=True, pharmacy=PHARMACY)
    record = DispensationRecord("k-once", patient, line_aged(0))
    assert adapter.record(record, pharmacy=PHARMACY) == "recorded"
    assert adapter.record(record, pharmacy=PHARMACY) == "duplicate"
    assert dp.store.count_lines("k-once") == 1


def test_alerts_stay_pending_until_acknowledged_per_pharmacy(adapter):
    pending = adapter.alerts(pharmacy="111111111")
    assert {a.kind.value for a in pending} == {"alert", "recall"}
    first = pending[0]
    adapter.acknowledge(first.id, pharmacy="111111111", by="10000000001")
    assert first.id not in {a.id for a in adapter.alerts(pharmacy="111111111")}
    assert first.id in {a.id for a in adapter.alerts(pharmacy="222222222")}
    with pytest.raises(DPRefused) as caught:
        adapter.acknowledge("DPA-NOPE", pharmacy="111111111", by="10000000001")
    assert caught.value.code == "unknown-alert"


def test_outage_and_5xx_are_transient(adapter, dp):
    dp.faults.fail_next(1, status=503)
    with pytest.raises(DPUnavailable) as caught:
        adapter.alerts(pharmacy=PHARMACY)
    assert caught.value.transient
    dp.faults.reset_next(1)
    with pytest.raises(DPUnavailable):
        adapter.alerts(pharmacy=PHARMACY)
    assert adapter.alerts(pharmacy=PHARMACY) is not None


def test_mutual_tls_a_client_without_certificate_is_refused(dp, pki):
    bare = client_context(ca_bundle=pki.ca_bundle)
    anonymous = HttpsAdapter(dp.url, ssl_context=bare, timeout=5.0)
    with anonymous, pytest.raises(DPUnavailable):
        anonymous.alerts(pharmacy=PHARMACY)
    stranger = ssl.create_default_context()  # trusts the system CAs, not the test PKI
    untrusting = HttpsAdapter(dp.url, ssl_context=stranger, timeout=5.0)
    with untrusting, pytest.raises(ServerCertificateError) as caught:
        untrusting.alerts(pharmacy=PHARMACY)
    assert caught.value.code == "tls"
