"""The appli carte Vitale adapter against its sandbox, over real mutual TLS."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_vitale.apcv import ApcvRequest, HttpApcvAdapter, apcv_adapter, identify_and_dispatch
from segur_vitale.apcv.sandbox import DEMO_APCV_PERSON, ApcvPerson, ApcvSandbox
from segur_vitale.errors import (
    ApcvContextExpiredError,
    ApcvContextUnknownError,
    ApcvError,
    ApcvPayloadError,
)

from segur_core.errors import TLSConfigError
from segur_core.model import BirthDate, IdentityTraits, ReadingSource, Sex
from segur_core.testing.recorder import HookRecorder
from segur_core.tls import client_context

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

CHILD = ApcvPerson(IdentityTraits("ADRUN", ("LEA",), Sex.FEMALE, BirthDate(2015, 5, 2),
                                  birth_place="63220"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    from segur_core.testing.pki import TestPKI

    return TestPKI.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def sandbox(pki):
    with ApcvSandbox(pki=pki) as running:
        yield running


def _adapter(pki, sandbox, credential="structure"):
    cred = pki.client(credential)
    context = client_context(ca_bundle=pki.ca_bundle, pkcs12=cred.p12_path,
                             password=cred.p12_password, check_validity=False)
    return HttpApcvAdapter(sandbox.url, context, timeout=5)


def test_qr_context_gives_a_high_trust_reading(pki, sandbox):
    payload = sandbox.issue()
    with _adapter(pki, sandbox) as adapter:
        (reading,) = adapter.identify(ApcvRequest.from_qr(payload))
    assert reading.source is ReadingSource.APCV and reading.high_trust
    assert reading.traits == DEMO_APCV_PERSON.traits and reading.nir == DEMO_APCV_PERSON.nir


def test_nfc_and_several_beneficiaries(pki, sandbox):
    payload = sandbox.issue([DEMO_APCV_PERSON, CHILD])
    with _adapter(pki, sandbox) as adapter:
        readings = adapter.identify(ApcvRequest.from_nfc(payload.encode()))
    assert [r.beneficiary_rank for r in readings] == [1, 2]
    assert readings[1].insured_nir == DEMO_APCV_PERSON.nir and readings[1].nir is None


def test_expired_unknown_and_reused_contexts(pki, sandbox):
    with _adapter(pki, sandbox) as adapter:
        with pytest.raises(ApcvContextExpiredError) as info:
            adapter.identify(ApcvRequest.from_qr(sandbox.issue_expired()))
        assert info.value.service == "apcv" and info.value.code == "expired-context"
        with pytest.raises(ApcvContextUnknownError):
            adapter.identify(ApcvRequest.from_qr("APCV1.never-issued-context"))
        payload = sandbox.issue()
        adapter.identify(ApcvRequest.from_qr(payload))
        with pytest.raises(ApcvContextUnknownError):
            adapter.identify(ApcvRequest.from_qr(payload))


@pytest.mark.parametrize("text", ["short", "x" * 5000, "APCV1.é-accent", "APCV1.\x00\x01zz"])
def test_malformed_qr_payloads(text):
    with pytest.raises(ApcvPayloadError):
        ApcvRequest.from_qr(text)
    with pytest.raises(ApcvPayloadError):
        ApcvRequest.from_nfc(b"")


def test_certificate_from_another_ca_is_refused(pki, sandbox):
    with _adapter(pki, sandbox, "foreign") as adapter, pytest.raises(ApcvError) as info:
        adapter.identify(ApcvRequest.from_qr(sandbox.issue()))
    assert info.value.code == "unreachable"


def test_expired_client_certificate_is_refused_before_connecting(pki):
    cred = pki.client("expired")
    with pytest.raises(TLSConfigError):
        client_context(ca_bundle=pki.ca_bundle, pkcs12=cred.p12_path,
                       password=cred.p12_password)


def test_no_plaintext_endpoint(pki):
    context = client_context(ca_bundle=pki.ca_bundle)
    with pytest.raises(Exception, match="https"):
        HttpApcvAdapter("http://127.0.0.1:1", context)


def test_service_down_is_transient(pki, sandbox):
    sandbox.faults.fail_next(1, status=503)
    with _adapter(pki, sandbox) as adapter, pytest.raises(ApcvError) as info:
        adapter.identify(ApcvRequest.from_qr(sandbox.issue()))
    assert info.value.transient


def test_runtime_wiring_dispatches_the_chosen_beneficiary(vitale_runtime):
    sandbox = vitale_runtime.sandbox("apcv")
    vitale_runtime.test_choices.append("2")
    recorder = HookRecorder.attach(vitale_runtime)
    with apcv_adapter(vitale_runtime) as adapter:
        reading = identify_and_dispatch(
            vitale_runtime, adapter,
            ApcvRequest.from_qr(sandbox.issue([DEMO_APCV_PERSON, CHILD])))
        assert reading.traits.first_names == ("LEA",)
        assert recorder.one("on_card_read").kwargs["reading"] is reading
        with pytest.raises(ApcvContextExpiredError):
            identify_and_dispatch(vitale_runtime, adapter,
                                  ApcvRequest.from_qr(sandbox.issue_expired()))
    assert len(recorder.of("on_card_read")) == 1
    recorder.detach()
    records = [r for r in vitale_runtime.journal.records() if r.action == "vitale.apcv-identify"]
    assert [(r.outcome, r.service) for r in records] == [("ok", "apcv"), ("error", "apcv")]


def test_demo_person_is_the_demo_cardholder():
    from segur_vitale.virtual import DEMO_CARDHOLDER

    assert DEMO_APCV_PERSON.nir == DEMO_CARDHOLDER.nir
    assert DEMO_APCV_PERSON.traits.birth_date.to_date() == dt.date(1975, 12, 31)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=12), kids,
                                                              max_size=4),
    max_leaves=10)


@given(st.dictionaries(st.sampled_from(["beneficiaries", "context", "x"]), json_values)
       | json_values)
def test_answer_parser_is_total(data):
    from segur_vitale.apcv.client import readings_from_json

    try:
        readings = readings_from_json(data)
    except ApcvError:
        return
    assert readings and all(r.source is ReadingSource.APCV for r in readings)


@given(st.lists(st.fixed_dictionaries({
    "birth_name": st.sampled_from(["ADRUN", "X"]), "first_names": st.lists(
        st.sampled_from(["ZOE", "A"]), min_size=1, max_size=2),
    "sex": st.sampled_from(["M", "F", "I", "?"]),
    "birth_date": st.sampled_from(["1975-12-31", "1980-00-00", "1980-02-30", "31/12/1975"]),
}), min_size=0, max_size=3))
def test_answer_parser_on_near_valid_answers(items):
    from segur_vitale.apcv.client import readings_from_json

    try:
        readings = readings_from_json({"beneficiaries": items})
    except ApcvError:
        return
    assert len(readings) == len(items)


_VALID_ITEM = {"birth_name": "ADRUN", "first_names": ["ZOE"], "sex": "F",
               "birth_date": "1975-12-31", "birth_place": "63220",
               "nir": DEMO_APCV_PERSON.nir, "insured_nir": DEMO_APCV_PERSON.nir, "rank": 1}


@pytest.mark.parametrize("field, value", [
    ("nir", "123"), ("nir", 42), ("insured_nir", ["x"]), ("nir", "27512632207497X"),
    ("birth_place", 5), ("birth_place", "6322"), ("first_names", "ZOE"),
    ("first_names", [7]), ("first_names", []), ("rank", True), ("rank", "2"), ("rank", 0),
    ("birth_name", 7), ("birth_name", " "), ("birth_name", "ADRUN\n"),
])
def test_answer_fields_of_the_wrong_type_or_shape_are_refused(field, value):
    from segur_vitale.apcv.client import readings_from_json

    assert readings_from_json({"beneficiaries": [_VALID_ITEM]})[0].nir == DEMO_APCV_PERSON.nir
    with pytest.raises(ApcvError) as info:
        readings_from_json({"beneficiaries": [{**_VALID_ITEM, field: value}]})
    assert info.value.code == "bad-answer"


def test_answer_with_two_beneficiaries_of_the_same_rank_is_refused():
    from segur_vitale.apcv.client import readings_from_json

    with pytest.raises(ApcvError):
        readings_from_json({"beneficiaries": [_VALID_ITEM, _VALID_ITEM]})


@given(st.fixed_dictionaries({}, optional={
    "birth_name": json_values, "first_names": json_values, "sex": json_values,
    "birth_date": json_values, "birth_place": json_values, "nir": json_values,
    "insured_nir": json_values, "rank": json_values}))
def test_a_read_answer_holds_only_well_formed_fields(overrides):
    """Whatever the service sends, a reading that comes out has string traits and NIRs
    of NIR shape: nothing malformed can reach an INSi request."""
    import re

    from segur_vitale.apcv.client import readings_from_json

    try:
        (reading,) = readings_from_json({"beneficiaries": [{**_VALID_ITEM, **overrides}]})
    except ApcvError:
        return
    for nir in (reading.nir, reading.insured_nir):
        assert nir is None or re.fullmatch(r"[0-9]{6}[0-9AB][0-9]{8}", nir)
    assert isinstance(reading.traits.birth_name, str) and reading.traits.birth_name
    assert all(isinstance(n, str) and n for n in reading.traits.first_names)
    assert reading.traits.birth_place is None or len(reading.traits.birth_place) == 5
    assert type(reading.beneficiary_rank) is int
