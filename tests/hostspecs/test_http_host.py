"""The host contract over HTTP: the adapter (hostspecs.http.HttpHost) against the
reference LGO side, served for real on loopback (the conformance kit's own checks run
through it in test_http_conformance.py). Every way the LGO can fail (down, slow, 5xx,
not JSON, wrong shape, too large, a wrong base URL, a wrong token) is a typed error
naming the route, never a patient's data, and loses or duplicates nothing."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostspecs.conformance import samples
from hostspecs.http import (
    HostAnswerError,
    HostCallError,
    HostRefused,
    HostTimeout,
    HostUnavailable,
    HttpHost,
    HttpHostSettings,
    http_host,
)
from hostspecs.http.server import ReferenceLgo
from segur_core import convert
from segur_core.config import Config
from segur_core.errors import ConfigError, ConformanceError, RemoteServiceError
from segur_core.sandbox.faults import FaultInjector
from segur_core.secrets import Secret

TOKEN = "t0ken-for-the-tests"
NAME = "CONFORMITE"  # the sample patient's birth name: never in a log or a message


def adapter(lgo: ReferenceLgo, **overrides: Any) -> HttpHost:
    values = {"url": lgo.url, "token": Secret(TOKEN), **overrides}
    return HttpHost(HttpHostSettings(**values))


@pytest.fixture
def lgo(tmp_path: Path):
    with ReferenceLgo(tmp_path, token=TOKEN) as served:
        yield served


@pytest.fixture
def host(lgo: ReferenceLgo):
    with adapter(lgo) as made:
        yield made


# -- what goes through -----------------------------------------------------------------------


def test_values_travel_unchanged_and_the_lgo_keeps_them(lgo: ReferenceLgo, host: HttpHost) -> None:
    saved = host.host_save_patient(samples.patient(qualified=True))
    assert saved.id and lgo.host.host_get_patient(saved.id) == saved  # in the LGO's database
    document = samples.document(saved.id, 1)
    assert host.host_store_document(document) == document
    assert host.host_get_document(document.id).content == document.content  # byte for byte
    assert host.host_find_patients(NAME.lower(), None, None, None) == [saved]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    patient_id=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=30,
    )
)
def test_any_identifier_travels_in_one_path_segment(host: HttpHost, patient_id: str) -> None:
    """``/``, ``%``, ``?``, ``#``, spaces and non-ASCII stay inside the identifier."""
    patient = attrs.evolve(samples.patient(), id=patient_id)
    assert host.host_save_patient(patient) == patient
    assert host.host_get_patient(patient_id) == patient
    assert host.host_get_patient(patient_id + "x") is None
    assert host.host_consent(patient_id, "dmp/access?") is None


def test_the_factory_reads_the_host_table_and_the_runtime_uses_it(
    lgo: ReferenceLgo, tmp_path: Path, monkeypatch, caplog
) -> None:
    from segur_core.runtime import create_runtime

    monkeypatch.setenv("LGO_SEGUR_TOKEN", TOKEN)
    config = Config.from_dict(
        {
            "segur": {"host": "hostspecs.http:http_host", "plugins": [], "mode": "test"},
            "host": {"url": lgo.url, "token": "env:LGO_SEGUR_TOKEN", "deadline": 5.0},
        }
    )
    with (
        caplog.at_level(logging.WARNING),
        create_runtime(config, data_dir=tmp_path / "segur") as runtime,
    ):
        assert isinstance(runtime.host_object, HttpHost)
        saved = runtime.host.save_patient(samples.patient())
        assert lgo.host.host_get_patient(saved.id) == saved
    assert "[host]" not in caplog.text  # the host's own table, not an unknown plugin's
    assert http_host(tmp_path, config=config).settings.deadline == 5.0


def test_every_hook_of_the_contract_has_a_route() -> None:
    """A hook added to the contract without its route fails here, not in a pharmacy."""
    from hostspecs.http import ROUTES
    from segur_core.host import HOST_HOOKS, is_host

    assert {r.hook for r in ROUTES} == set(HOST_HOOKS)
    assert all(hasattr(HttpHost, hook) for hook in HOST_HOOKS)
    assert is_host(HttpHost.__new__(HttpHost))


# -- failures: typed, named, nothing lost ----------------------------------------------------


def test_the_lgo_down_is_transient_and_nothing_is_lost(lgo: ReferenceLgo) -> None:
    with adapter(lgo, retries=0) as host:
        saved = host.host_save_patient(samples.patient())
        lgo.stop()
        changed = attrs.evolve(saved, email="new@example.test")
        with pytest.raises(HostUnavailable) as caught:
            host.host_save_patient(changed)
        assert caught.value.transient and caught.value.code == "unreachable"
        assert "PUT /patients/{patient_id}" in str(caught.value)
        lgo.start()  # back on the same port: the call made again succeeds
        assert host.host_save_patient(changed) == changed
        assert lgo.host.host_get_patient(saved.id) == changed


def test_a_slow_lgo_ends_at_the_deadline(tmp_path: Path) -> None:
    faults = FaultInjector()
    lgo = ReferenceLgo(tmp_path, token=TOKEN, wrap=faults.middleware)
    with lgo, adapter(lgo, deadline=0.5) as host:
        faults.hang_next(1, seconds=10)
        started = time.monotonic()
        with pytest.raises(HostTimeout) as caught:
            host.host_structure()
        assert time.monotonic() - started < 2.0
        assert caught.value.transient and caught.value.code == "timeout"
        assert host.host_structure().finess  # the next call is answered


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_transient_and_a_503_is_called_again(tmp_path: Path, status: int) -> None:
    faults = FaultInjector()
    lgo = ReferenceLgo(tmp_path, token=TOKEN, wrap=faults.middleware)
    with lgo, adapter(lgo, retries=1) as host:
        faults.fail_next(1, status=status)
        if status == 503:  # called again once, with success
            assert host.host_practitioner().rpps
        else:
            with pytest.raises(HostUnavailable) as caught:
                host.host_practitioner()
            assert caught.value.status == 500 and caught.value.transient
        faults.fail_next(2, status=status)
        with pytest.raises(HostUnavailable):
            host.host_practitioner()


class _CommitThenReset:
    """Lets the LGO do the first POST fully, then breaks the connection instead of
    answering: the adapter cannot know whether the record was made."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.armed = True

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if not (self.armed and scope["type"] == "http" and scope["method"] == "POST"):
            await self.app(scope, receive, send)
            return
        self.armed = False

        async def swallow(message: dict) -> None:
            pass

        await self.app(scope, receive, swallow)
        scope["extensions"]["segur.transport"].abort()
        await asyncio.sleep(0)


def test_a_lost_answer_is_not_recorded_twice(tmp_path: Path) -> None:
    breaker: list[_CommitThenReset] = []

    def wrap(app: Any) -> Any:
        breaker.append(_CommitThenReset(app))
        return breaker[0]

    with ReferenceLgo(tmp_path, token=TOKEN, wrap=wrap) as lgo, adapter(lgo) as host:
        consent = samples.consent("P000001", True)
        assert host.host_record_consent(consent) == consent  # answered on the second call
        assert not breaker[0].armed
        rows = lgo.host._rows("SELECT COUNT(*) FROM consent")
        assert rows == [(1,)], "the consent was recorded twice"


class _Answers:
    """An LGO that answers every call with ``status``, ``content_type`` and ``body``."""

    def __init__(self, status: int, content_type: str, body: bytes) -> None:
        self.answer = (status, content_type, body)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        status, content_type, body = self.answer
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type.encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def rogue(tmp_path: Path, status: int, content_type: str, body: bytes) -> ReferenceLgo:
    return ReferenceLgo(tmp_path, wrap=lambda app: _Answers(status, content_type, body))


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        ("application/json", b'{"id": "P1", "identity": ', "not-json"),
        ("text/html", b"<html>login</html>", "not-json"),
        ("application/json", b"[" * 100_000 + b"]" * 100_000, "not-json"),
        (
            "application/json",
            json.dumps({"id": "P1", "identity": {"traits": {"birth_name": NAME}}}).encode(),
            "shape",
        ),
    ],
    ids=["truncated", "html", "deep", "wrong-shape"],
)
def test_an_answer_that_is_not_the_contract_is_a_conformance_error(
    tmp_path: Path, content_type: str, body: bytes, code: str
) -> None:
    lgo = rogue(tmp_path, 200, content_type, body)
    with lgo, adapter(lgo) as host, pytest.raises(HostAnswerError) as caught:
        host.host_get_patient("P1")
    error = caught.value
    assert isinstance(error, ConformanceError) and isinstance(error, RemoteServiceError)
    assert error.code == code and not error.transient
    assert NAME not in str(error) and "GET /patients/{patient_id}" in str(error)


def test_an_answer_over_the_cap_is_refused_unread(lgo: ReferenceLgo) -> None:
    with adapter(lgo, max_bytes=4096) as host:
        owner = host.host_save_patient(samples.patient())
        big = attrs.evolve(samples.document(owner.id, 1), content=b"x" * 8192)
        lgo.host.host_store_document(big)
        with pytest.raises(HostAnswerError) as caught:
            host.host_get_document(big.id)
        assert caught.value.code == "too-large"
        assert host.host_get_patient(owner.id) == owner  # the pool is still usable


def test_a_404_that_is_not_the_contracts_not_found_is_an_error(lgo: ReferenceLgo) -> None:
    """A wrong base URL must never read as "no such patient"."""
    with adapter(lgo, url=lgo.url + "/wrong") as host, pytest.raises(HostAnswerError) as caught:
        host.host_get_patient("P000001")
    assert caught.value.status == 404 and "url" in str(caught.value)


def test_a_wrong_token_is_refused_with_a_hint(lgo: ReferenceLgo) -> None:
    with adapter(lgo, token=Secret("wrong")) as host, pytest.raises(HostRefused) as caught:
        host.host_structure()
    assert caught.value.status == 401 and "token" in str(caught.value)
    assert "wrong" not in str(caught.value) and TOKEN not in str(caught.value)


def test_mutual_tls(tmp_path: Path) -> None:
    from segur_core.sandbox.pki import TestPKI
    from segur_core.sandbox.server import ServerTLS
    from segur_core.wire import ClientTls

    pki = TestPKI.create(tmp_path / "pki")
    client = pki.client("structure")
    with ReferenceLgo(tmp_path, token=TOKEN, tls=ServerTLS.from_pki(pki)) as lgo:
        assert lgo.url.startswith("https://")
        tls = ClientTls(
            client_pkcs12=client.p12_path,
            client_password=Secret(client.p12_password),
            ca_bundle=pki.ca_bundle,
        )
        with adapter(lgo, tls=tls) as host:
            assert host.host_structure() == lgo.host.host_structure()
        without_certificate = adapter(lgo, tls=ClientTls(ca_bundle=pki.ca_bundle))
        with without_certificate as host, pytest.raises(HostCallError):  # refused
            host.host_structure()
        with adapter(lgo) as host:  # the system's CAs do not know the LGO's
            with pytest.raises(HostCallError) as caught:
                host.host_structure()
            assert "CA bundle" in str(caught.value)


def test_no_patient_data_in_the_logs(lgo: ReferenceLgo, host: HttpHost, caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="segur"):
        saved = host.host_save_patient(samples.patient(qualified=True))
        host.host_find_patients(NAME, "ALICE", "1985-06-15", saved.identity.ins.matricule)
        host.host_get_patient(saved.id)
    assert "GET /patients/{patient_id}" in caplog.text
    for secret in (NAME, "ALICE", saved.identity.ins.matricule, "1985-06-15", saved.id, TOKEN):
        assert secret not in caplog.text


# -- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({}, "host.url"),
        ({"url": "http://lgo.example.test/api"}, "host.url"),
        ({"url": "ftp://127.0.0.1/"}, "host.url"),
        ({"url": "https://[::1/"}, "host.url"),
        ({"url": "https://u:p@lgo.example.test/"}, "host.url"),
        ({"url": "https://lgo.example.test/", "deadline": 0}, "host.deadline"),
        ({"url": "https://lgo.example.test/", "retries": 9}, "host.retries"),
        ({"url": "https://lgo.example.test/", "max_bytes": "big"}, "host.max_bytes"),
    ],
)
def test_bad_settings_name_their_key(table: dict, key: str) -> None:
    config = Config.from_dict({"host": table})
    with pytest.raises(ConfigError) as caught:
        HttpHostSettings.from_config(config)
    assert caught.value.key == key


def test_production_refuses_an_inline_token() -> None:
    table = {"url": "https://lgo.example.test/", "token": "inline-token"}
    config = Config.from_dict({"segur": {"mode": "production"}, "host": table})
    with pytest.raises(ConfigError) as caught:
        HttpHostSettings.from_config(config)
    assert caught.value.key == "host.token" and "inline-token" not in str(caught.value)
    assert HttpHostSettings.from_config(Config.from_dict({"host": table})).token


# -- the OpenAPI document ----------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_describes_what_travels(host: HttpHost) -> None:
    import jsonschema
    from openapi_spec_validator import validate

    from hostspecs.http import ROUTES, openapi_document
    from segur_core import convert

    document = openapi_document()
    validate(document)
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method != "servers"
    }
    assert operations == {(r.method, r.path) for r in ROUTES}
    schemas = document["components"]["schemas"]

    def check(name: str, value: Any) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": schemas}}
        jsonschema.validate(convert.unstructure(value), schema)

    saved = host.host_save_patient(samples.patient(qualified=True))
    check("Patient", saved)
    check("HealthDocument", samples.document(saved.id, 1))
    check("Consent", samples.consent(saved.id, True))
    check("Structure", host.host_structure())
    with pytest.raises(jsonschema.ValidationError):
        check("Patient", attrs.evolve(saved, id=12))


def test_segur_serves_the_host_api_as_webhooks_of_its_own_document(make_segur_runtime) -> None:
    """In ``segur serve``'s document the host API is a separate section: what segur calls
    on the LGO, never among the paths a client of segur calls."""
    from openapi_spec_validator import validate

    from hostspecs.http import ROUTES
    from segur_core.host.openapi import TAG
    from segur_core.serve.app import create_app

    document = create_app(make_segur_runtime()).state.service.openapi
    validate(document)
    assert {
        (hook, method.upper()) for hook, item in document["webhooks"].items() for method in item
    } == {(r.hook, r.method) for r in ROUTES}
    lgo_paths = {r.path for r in ROUTES}
    assert not lgo_paths & set(document["paths"])
    assert all(path.startswith("/v1/") for path in document["paths"])
    search = document["webhooks"]["host_find_patients"]["post"]
    assert search["tags"] == [TAG] and search["x-segur-path"] == "/patients/search"
    assert TAG in {tag["name"] for tag in document["tags"]}
    assert "Patient" in document["components"]["schemas"]


@settings(max_examples=200)
@given(
    url=st.one_of(
        st.text(max_size=60),
        st.builds(
            lambda scheme, host, rest: f"{scheme}://{host}{rest}",
            st.sampled_from(["http", "https", "ftp", "HTTP", ""]),
            st.text(max_size=20),
            st.text(max_size=20),
        ),
    )
)
def test_any_url_is_accepted_or_refused_naming_the_key(url: str) -> None:
    try:
        made = HttpHostSettings(url=url)
    except ConfigError as error:
        assert error.key == "host.url"
    else:
        assert made.url.lower().startswith(("http://", "https://"))
        assert made.is_https == made.url.lower().startswith("https://")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/patients", b'{"id": "", "identity": ', 400),  # not JSON
        ("POST", "/consents", b'{"patient_id": 1}', 400),  # not a Consent
        ("PUT", "/patients/P1", json.dumps({"id": "P2"}).encode(), 400),  # not a Patient
        ("GET", "/patients/P1/dispensations?since=yesterday", None, 400),
        ("PUT", "/documents/D1", b"x" * (33 * 1024 * 1024), 413),
    ],
    ids=["not-json", "wrong-shape", "wrong-body", "bad-since", "too-large"],
)
def test_the_reference_lgo_side_refuses_what_the_contract_does_not_allow(
    lgo: ReferenceLgo, method: str, path: str, body: bytes | None, status: int
) -> None:
    import httpx

    answer = httpx.request(
        method,
        lgo.url + path,
        content=body,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status


def test_a_put_whose_body_names_another_record_is_refused(lgo: ReferenceLgo) -> None:
    import httpx

    patient = attrs.evolve(samples.patient(), id="P2")
    answer = httpx.put(
        lgo.url + "/patients/P1",
        json=convert.unstructure(patient),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 400 and lgo.host.host_get_patient("P2") is None
