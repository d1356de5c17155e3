"""The NDP, the DP's own patient identifier: assigned by the sandbox DP when a dossier
is opened, given back by ``create``, and enough on its own to read the history (no card,
no INS), over mutual TLS; an unknown NDP is ``NoDossier``; its shape check is typed and
never repeats the value; no journal record holds it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_dp.depth import Category
from segur_dp.errors import ConsentRequired, NoDossier, PatientKeyError
from segur_dp.model import DispensationRecord, Dossier, DPPatient, check_ndp
from segur_dp.service import service_for
from segur_dp.testing import line_aged

from segur_core.model import BirthDate, CardReading, Identity, IdentityTraits, Patient, Sex

PHARMACY = "750000001"
NOW = dt.datetime.now(dt.UTC)
SINCE = {c: NOW - dt.timedelta(days=3650) for c in Category}
FIXTURES = [HealthCheck.function_scoped_fixture]

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ndps = st.builds(
    lambda first, middle, last: first + middle + last,
    st.sampled_from(_ALNUM),
    st.text(_ALNUM + "-._", min_size=6, max_size=62),
    st.sampled_from(_ALNUM),
)


def test_create_gives_the_ndp_and_the_history_is_read_by_it_alone(adapter, dp):
    patient = DPPatient("1920575123011")
    with pytest.raises(NoDossier):
        adapter.create(DPPatient.by_ndp("NDP0000000000UNKNOWN"), consent=True, pharmacy=PHARMACY)
    created = adapter.create(patient, consent=True, pharmacy=PHARMACY)
    assert created.status == "created" and created.ndp is not None
    check_ndp(created.ndp)
    assert created.ndp not in repr(created) and "1920575123011" not in created.ndp
    again = adapter.create(patient, consent=True, pharmacy=PHARMACY)
    assert again == Dossier("exists", created.ndp)  # one dossier, one NDP
    line = line_aged(5, now=NOW)
    assert adapter.record(DispensationRecord("ndp-1", patient, line), pharmacy=PHARMACY)
    by_ndp = DPPatient.by_ndp(created.ndp)
    assert by_ndp.nir is None and created.ndp not in repr(by_ndp)
    assert adapter.history(by_ndp, SINCE) == (line,) == adapter.history(patient, SINCE)


def test_a_refusal_gives_no_ndp_and_closes_the_history_by_ndp(adapter):
    patient = DPPatient("2920575123012")
    ndp = adapter.create(patient, consent=True, pharmacy=PHARMACY).ndp
    assert adapter.create(patient, consent=False, pharmacy=PHARMACY) == Dossier("refused")
    with pytest.raises(Exception) as caught:
        adapter.history(DPPatient.by_ndp(ndp), SINCE)
    assert getattr(caught.value, "code", None) == "consent-refused"


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURES)
@given(ndps)
def test_unknown_ndps_are_no_dossier(adapter, ndp):
    with pytest.raises(NoDossier) as caught:
        adapter.history(DPPatient.by_ndp(ndp), SINCE)
    assert ndp not in str(caught.value)


@given(ndps)
def test_every_ndp_of_the_accepted_shape_is_kept_as_given(ndp):
    assert check_ndp(ndp) == ndp == check_ndp(f" {ndp}\n")


@given(st.text(max_size=80) | st.integers() | st.none() | st.binary(max_size=10))
def test_anything_else_is_a_typed_error_that_does_not_repeat_it(value):
    try:
        ndp = check_ndp(value)
    except PatientKeyError as exc:
        with pytest.raises(PatientKeyError) as other:
            check_ndp("!")
        assert str(exc) == str(other.value)  # the message never depends on the value
    else:
        assert isinstance(value, str) and 8 <= len(ndp) <= 64 and ndp == value.strip()


def test_a_patient_needs_a_nir_or_an_ndp():
    with pytest.raises(PatientKeyError):
        DPPatient(None)
    with pytest.raises(PatientKeyError):
        DPPatient.by_ndp("short")


def test_the_service_reads_by_the_ndp_with_no_card_and_no_ins(make_segur_runtime):
    runtime = make_segur_runtime(autoload=True, plugins=["dp"])
    traits = IdentityTraits("MARTIN", ("LEA",), Sex.FEMALE, BirthDate(1992, 5, 1))
    patient = runtime.host.save_patient(Patient("", Identity(traits)))  # no INS
    service = service_for(runtime)
    reading = CardReading("vitale-card", traits, nir="2920575123013")
    service.record_consent(patient.id, True, by="pharmacist")
    dossier = service.create(patient.id, reading=reading)  # the card, once, at the counter
    assert dossier.status == "created" and dossier.ndp
    with pytest.raises(PatientKeyError):
        service.history(patient.id)  # neither a card nor an INS nor the NDP
    assert service.history(patient.id, ndp=dossier.ndp) == ()
    service.record_consent(patient.id, False, by="pharmacist")
    with pytest.raises(ConsentRequired):
        service.history(patient.id, ndp=dossier.ndp)  # consent still asked of the host
    records = [r for r in runtime.journal.records() if r.action in {"dp.history", "dp.create"}]
    assert [r.details.get("by") for r in records if r.action == "dp.history"] == ["ndp"]
    dumped = json.dumps([[r.action, r.details, r.patient_id] for r in records])
    assert dossier.ndp not in dumped and "2920575123013" not in dumped
