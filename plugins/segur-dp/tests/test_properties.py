"""Property tests: whatever a DP service answers, the adapter returns values or raises a
typed error; unknown patients and alert ids are typed refusals; the NIR check and the
codec accept exactly what they should, and no error repeats a NIR."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_dp.codec import alert_from_json, line_from_json, line_to_json
from segur_dp.depth import Category
from segur_dp.errors import DPAnswerError, DPRefused, DPUnavailable, NoDossier, PatientKeyError
from segur_dp.https import HttpsAdapter
from segur_dp.model import DPPatient, HistoryLine, check_nir
from segur_dp.testing import nir_with_key

from segur_core.errors import SegurError
from segur_core.sandbox import Sandbox

FIXTURES = [HealthCheck.function_scoped_fixture]
NOW = dt.datetime.now(dt.UTC)
SINCE = {c: NOW - dt.timedelta(days=3650) for c in Category}

nirs = st.builds(
    lambda sex, yy, mm, dep, rest: f"{sex}{yy:02d}{mm:02d}{dep}{rest:06d}",
    st.sampled_from("12"),
    st.integers(0, 99),
    st.integers(1, 12),
    st.sampled_from(["75", "2A", "2B", "13", "99"]),
    st.integers(0, 999_999),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
line_like = st.fixed_dictionaries(
    {},
    optional={
        "dispensed_at": st.sampled_from(["2026-01-01T00:00:00+00:00", "2026-01-01", "x", 3]),
        "category": st.sampled_from(["ordinary", "vaccine", "other", 1]),
        "product_code": st.text(max_size=14) | st.integers(),
        "label": st.text(max_size=10) | st.none(),
        "quantity": st.integers(-2, 20_000) | st.booleans() | st.text(max_size=2),
        "pharmacy": st.none() | st.text(max_size=5) | st.integers(),
    },
)


@given(nirs)
def test_every_nir_is_accepted_with_or_without_its_key(nir):
    assert check_nir(nir) == nir
    assert check_nir(nir_with_key(nir)) == nir
    bad_key = f"{nir}{(int(nir_with_key(nir)[13:]) + 1) % 100:02d}"
    with pytest.raises(PatientKeyError) as caught:
        check_nir(bad_key)
    assert nir not in str(caught.value)


@given(st.text(max_size=20) | st.integers() | st.none())
def test_anything_else_is_a_typed_error_that_does_not_repeat_it(value):
    try:
        check_nir(value)
    except PatientKeyError as exc:
        if isinstance(value, str) and len(value) > 3:
            assert value not in str(exc)


@given(json_values | line_like)
def test_codec_reads_a_line_or_says_which_field(obj):
    try:
        line = line_from_json(obj)
    except DPAnswerError as exc:
        assert exc.code == "malformed-answer" and str(exc).startswith("dp: line")
    else:
        assert isinstance(line, HistoryLine) and line_from_json(line_to_json(line)) == line


@given(json_values)
def test_codec_reads_an_alert_or_refuses_it(obj):
    with contextlib.suppress(DPAnswerError):
        alert_from_json(obj)


class Scripted(Sandbox):
    """A DP service that answers whatever the test says."""

    name = "scripted"
    status = 200
    body = b"{}"

    def build_app(self):
        from starlette.applications import Starlette
        from starlette.responses import Response
        from starlette.routing import Route

        async def endpoint(request):
            await request.body()
            return Response(self.body, status_code=self.status, media_type="application/json")

        return Starlette(routes=[Route("/{path:path}", endpoint, methods=["POST"])])


@pytest.fixture(scope="module")
def scripted(pki):
    box = Scripted(pki=pki)
    box.start()
    yield box
    box.stop()


answers = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"lines": st.lists(line_like, max_size=3)}).map(
        lambda v: json.dumps(v).encode()
    ),
    st.fixed_dictionaries({"alerts": st.lists(json_values, max_size=3)}).map(
        lambda v: json.dumps(v).encode()
    ),
    st.fixed_dictionaries({"error": json_values, "message": json_values}).map(
        lambda v: json.dumps(v).encode()
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(st.sampled_from([200, 200, 400, 403, 404, 409, 500, 503]), answers)
def test_malformed_answers_are_typed_errors(scripted, status, body):
    scripted.status, scripted.body = status, body
    with HttpsAdapter(scripted.url, ssl_context=scripted.client_context(), timeout=5) as adapter:
        for call in (
            lambda: adapter.history(DPPatient("1850575123001"), SINCE),
            lambda: adapter.alerts(pharmacy="750000001"),
            lambda: adapter.create(DPPatient("1850575123001"), consent=True, pharmacy="1"),
        ):
            try:
                call()
            except (DPAnswerError, DPRefused, DPUnavailable) as exc:
                assert isinstance(exc, SegurError) and "1850575123001" not in str(exc)
                if status >= 500:
                    assert isinstance(exc, DPUnavailable)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURES)
@given(nirs.map(lambda nir: nir[:5] + "2B" + nir[7:]), st.integers(1, 9))  # none created
def test_unknown_patients_are_no_dossier(adapter, nir, rank):
    with pytest.raises(NoDossier) as caught:
        adapter.history(DPPatient(nir, rank=rank), SINCE)
    assert nir not in str(caught.value)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURES)
@given(st.text(min_size=1, max_size=60).filter(lambda s: not s.startswith("DP")))
def test_unknown_alert_ids_are_refused(adapter, ident):
    with pytest.raises(DPRefused) as caught:
        adapter.acknowledge(ident, pharmacy="750000001", by="10000000001")
    assert caught.value.code in {"unknown-alert", "bad-request"}


@pytest.mark.parametrize(
    "body",
    [
        {"status": "created"},
        {"status": "created", "ndp": "x y"},
        {"status": "exists", "ndp": 12345678},
        {"status": "refused", "ndp": "NDP000000000001"},
    ],
)
def test_a_creation_answer_without_a_good_ndp_is_malformed(scripted, body):
    scripted.status, scripted.body = 200, json.dumps(body).encode()
    context = scripted.client_context()
    with (
        HttpsAdapter(scripted.url, ssl_context=context, timeout=5) as adapter,
        pytest.raises(DPAnswerError) as caught,
    ):
        adapter.create(DPPatient("1850575123001"), consent=True, pharmacy="750000001")
    assert str(caught.value).startswith("dp: ndp")
