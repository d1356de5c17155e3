"""Round trips with the e-prescription sandbox over mutual TLS: fetch, single use,
renewals, sequenced dispensation, idempotent reports, faults and malformed answers."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import ssl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_eprescription.dispensation import Decision, LineDecision, decide
from segur_eprescription.errors import (
    AlreadyDispensed,
    EPrescriptionServiceError,
    PrescriptionNotFound,
)
from segur_eprescription.models import ProductKind, Quantity
from segur_eprescription.sandbox import prescription_cda
from segur_eprescription.sandbox.prescriptions import SEEDS

from segur_core.errors import RemoteServiceError, SegurError

THREE_LINES, ONE_LINE = "SBX000000000000001", "SBX000000000000002"


def test_fetch_a_seeded_prescription(gateway) -> None:
    fetched = gateway.get_prescription(THREE_LINES)
    p = fetched.prescription
    assert (fetched.done, fetched.allowed, fetched.open) == (0, 2, False)
    assert [line.product.kind for line in p.lines] == [
        ProductKind.CIP13, ProductKind.CIP13, ProductKind.SUBSTANCE,
    ]  # fmt: skip
    assert [line.substitutable for line in p.lines] == [True, False, True]
    assert p.lines[2].product.substance == "amoxicilline"
    assert p.lines[0].dosage == "1 à 2 comprimés 3 fois par jour"
    assert p.lines[0].quantity == Quantity(2.0, "30009000")
    assert p.prescriber.rpps == "810000000001"


def test_seeds_are_read_back_as_written() -> None:
    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    from segur_eprescription.epmeddm import read_prescription

    for ident, lines in SEEDS.items():
        p = read_prescription(prescription_cda(ident, lines, issued_at=at))
        assert p.id == ident and p.issued_at == at
        assert [(x.renewals, x.duration_days) for x in p.lines] == [
            (s.renewals, s.days) for s in lines
        ]


def test_unknown_id(gateway) -> None:
    with pytest.raises(PrescriptionNotFound) as caught:
        gateway.get_prescription("ZZZZZZZZZZZZZZZZZZ")
    assert caught.value.hint


def test_a_client_without_certificate_is_refused(sandbox) -> None:
    from segur_eprescription.client import HttpsGateway

    context = ssl.create_default_context(cafile=str(sandbox.pki.ca_bundle))
    anonymous = HttpsGateway(sandbox.url, ssl_context=context, timeout=5.0)
    with pytest.raises(RemoteServiceError):
        anonymous.get_prescription(ONE_LINE)
    anonymous.close()


def test_single_use(gateway) -> None:
    fetched = gateway.get_prescription(ONE_LINE)
    ack = gateway.record_dispensation(decide(fetched.prescription))
    assert (ack.done, ack.allowed) == (1, 1)
    with pytest.raises(AlreadyDispensed, match="already fully dispensed") as caught:
        gateway.get_prescription(ONE_LINE)
    assert "new prescription" in caught.value.hint
    with pytest.raises(AlreadyDispensed):
        gateway.record_dispensation(decide(fetched.prescription))


def test_renewals_are_counted_and_sequenced_dispensation_stays_open(gateway) -> None:
    p = gateway.get_prescription(THREE_LINES).prescription
    partial = [LineDecision(1, Decision.PARTIAL, quantity=Quantity(1, "30009000"))]
    ack = gateway.record_dispensation(decide(p, partial))
    assert (ack.done, ack.open) == (0, True)
    assert gateway.get_prescription(THREE_LINES).open
    ack = gateway.record_dispensation(decide(p))
    assert (ack.done, ack.open) == (1, False)
    assert gateway.get_prescription(THREE_LINES).renewal == 1  # the renewal comes next
    ack = gateway.record_dispensation(decide(p))
    assert (ack.done, ack.allowed) == (2, 2)
    with pytest.raises(AlreadyDispensed):
        gateway.get_prescription(THREE_LINES)


def test_a_report_sent_twice_counts_once(gateway, sandbox) -> None:
    report = decide(gateway.get_prescription(THREE_LINES).prescription)
    first = gateway.record_dispensation(report)
    again = gateway.record_dispensation(report)
    assert again.duplicate and again.ack == first.ack and again.done == 1
    assert sandbox.store.reports(THREE_LINES) == [report.report_id]


def test_faults_are_typed_and_transient(gateway, sandbox) -> None:
    sandbox.faults.fail_next(1)
    with pytest.raises(EPrescriptionServiceError) as caught:
        gateway.get_prescription(ONE_LINE)
    assert caught.value.transient
    sandbox.faults.reset_next(1)
    with pytest.raises(RemoteServiceError) as caught:
        gateway.get_prescription(ONE_LINE)
    assert caught.value.transient
    assert gateway.get_prescription(ONE_LINE).prescription.id == ONE_LINE


def test_the_sandbox_reads_an_eprescription_received_another_way(gateway, sandbox) -> None:
    from .conftest import kit_example

    data = kit_example("eP-MED-DM_2024.01_PosoStruct.xml")
    added = sandbox.store.add(data)
    assert gateway.get_prescription(added.id).prescription.lines[0].renewals == 3
    status, answer = sandbox.handle("/prescriptions", b"<not-a-cda/>")
    assert status == 400 and answer["code"] == "CDA"


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_answers = st.one_of(
    st.binary(max_size=200),
    _json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {
            "cda": st.one_of(st.text(max_size=40), st.just("PGE+")),
            "done": _json_values,
            "allowed": _json_values,
            "open": _json_values,
        }
    ).map(lambda v: json.dumps(v).encode()),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(status=st.sampled_from([200, 201, 400, 404, 409, 500, 503]), body=_answers)
def test_malformed_answers_are_typed_errors(gateway, sandbox, status: int, body: bytes) -> None:
    sandbox.raw_answers[:] = [(status, body)]
    with pytest.raises(SegurError):
        gateway.get_prescription(ONE_LINE)
    sandbox.raw_answers[:] = [(status, body)]
    with contextlib.suppress(SegurError):  # a well-formed acknowledgement is accepted
        gateway.record_dispensation(decide(_one_line()))


def _one_line():
    from segur_eprescription.epmeddm import read_prescription

    at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    return read_prescription(prescription_cda(ONE_LINE, SEEDS[ONE_LINE], issued_at=at))
