"""The application of ``segur serve``: routes from declarations, OpenAPI from the same
declarations, one error shape, authentication, size limits, readiness, the plugins' hook."""

from __future__ import annotations

import threading

import httpx
import pytest

from segur_core import hookimpl
from segur_core.errors import DocumentError, PluginError, ValidationIssue
from segur_core.secrets import Secret
from segur_core.serve import ApiError, ApiRoute, Raw, ServeSettings, Warmup, object_schema
from segur_core.serve.app import create_app

from .conftest import TOKEN


def echo(call):
    """Answer the body and the query it was given."""
    return {"body": call.body, "query": dict(call.query), "caller": call.caller}


def refuse(call):
    raise DocumentError(
        "the document fails its checks", issues=(ValidationIssue("bad", location="/x"),)
    )


def crash(call):
    raise RuntimeError("a bug holding Jean DUPONT")


ECHO = ApiRoute(
    "POST", "/test/echo", echo, "testEcho", "Echo.",
    body=object_schema(
        {"name": {"type": "string", "maxLength": 20}, "n": {"type": "integer"}}, ("name",)
    ),
    query={"count": {"type": "integer", "minimum": 1}, "flag": {"type": "boolean"}},
    patient="name",
)  # fmt: skip
EXTRA = [
    ECHO,
    ApiRoute("GET", "/test/refuse", refuse, "testRefuse", "Refuse."),
    ApiRoute("GET", "/test/crash", crash, "testCrash", "Crash."),
    ApiRoute("GET", "/test/raw", lambda call: Raw(b"<x/>", "application/xml"), "testRaw", "Raw.",
             answer_media_type="application/xml"),
]  # fmt: skip


def test_health_ready_and_the_openapi_document_come_from_the_declarations(served):
    app, client = served(routes=EXTRA)
    assert client.get("/health")["status"] == "ok"
    assert client.get("/ready")["ready"] is True
    document = client.get("/openapi.json")
    assert document["openapi"].startswith("3.1")
    mounted = {(r.method.lower(), "/v1" + r.path) for r in app.state.service.routes}
    described = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert mounted == described
    echo_op = document["paths"]["/v1/test/echo"]["post"]
    assert echo_op["operationId"] == "testEcho"
    assert echo_op["requestBody"]["content"]["application/json"]["schema"] == dict(ECHO.body)
    assert echo_op["description"] == "Answer the body and the query it was given."
    assert {p["name"] for p in echo_op["parameters"]} == {"count", "flag"}
    assert echo_op["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert document["paths"]["/v1/health"]["get"]["security"] == []


def test_a_call_is_authenticated_validated_and_journaled_with_its_caller(served):
    app, client = served(routes=EXTRA)
    answer = client.request(
        "POST",
        "/test/echo",
        json_body={"name": "p-42", "n": 3},
        params={"count": "2", "flag": "true"},
    )
    assert answer == {
        "body": {"name": "p-42", "n": 3},
        "query": {"count": 2, "flag": True},
        "caller": "token",
    }
    journal = app.state.service.runtime.journal
    record = journal.records(limit=1)[-1]
    assert (record.action, record.actor, record.patient_id) == ("api.call", "token", "p-42")
    assert record.details == {"operation": "testEcho", "status": 200}


def test_unauthenticated_calls_are_refused_and_journaled(served):
    app, client = served(routes=EXTRA)
    url = client.url + "/v1/test/echo"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        answer = httpx.post(url, json={"name": "x"}, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["error"]["code"] == "unauthenticated"
    refused = [r for r in app.state.service.runtime.journal.records() if r.action == "api.refused"]
    assert len(refused) == 3 and refused[0].actor == "127.0.0.1"
    assert httpx.get(client.url + "/v1/health").status_code == 200  # probes are public


def test_oversized_bodies_are_refused_before_they_are_read(served):
    settings = ServeSettings(token=Secret(TOKEN), warm=False, max_body_bytes=1024)
    _app, client = served(settings=settings, routes=EXTRA)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    big = b'{"name": "' + b"a" * 2000 + b'"}'
    answer = httpx.post(client.url + "/v1/test/echo", content=big, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(10):
            yield b" " * 200

    answer = httpx.post(client.url + "/v1/test/echo", content=chunks(), headers=headers)
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("content", "params", "status", "code", "where"),
    [
        (b"{not json", None, 400, "malformed", "not JSON"),
        (b"", None, 400, "malformed", "JSON body is required"),
        (b'{"n": 1}', None, 422, "invalid_request", "'name' is a required property"),
        (b'{"name": 5}', None, 422, "invalid_request", "body.name: expected type string"),
        (b'{"name": "x", "other": 1}', None, 422, "invalid_request", "'other' was unexpected"),
        (b'{"name": "x"}', {"count": "abc"}, 400, "malformed", "count"),
        (b'{"name": "x"}', {"count": "0"}, 422, "invalid_request", "query.count"),
        (b'{"name": "x"}', {"nope": "1"}, 400, "malformed", "unknown query parameter"),
        (b"\xff\xfe", None, 400, "malformed", "not JSON"),
    ],
)
def test_malformed_requests_get_a_clear_error(served, content, params, status, code, where):
    _app, client = served(routes=EXTRA)
    with pytest.raises(ApiError) as caught:
        client.request(
            "POST", "/test/echo", content=content, media_type="application/json", params=params
        )
    assert (caught.value.status, caught.value.code) == (status, code)
    assert where in caught.value.message


def test_a_schema_error_never_echoes_the_value(served):
    _app, client = served(routes=EXTRA)
    with pytest.raises(ApiError) as caught:
        client.post("/test/echo", {"name": "DUPONT Jean-Pierre Marie"})
    assert "DUPONT" not in str(caught.value) + str(caught.value.details)


def test_typed_errors_keep_their_shape_and_bugs_hide_their_message(served):
    _app, client = served(routes=EXTRA)
    with pytest.raises(ApiError) as caught:
        client.get("/test/refuse")
    assert (caught.value.status, caught.value.code) == (422, "invalid_document")
    assert caught.value.details["issues"][0]["location"] == "/x"
    with pytest.raises(ApiError) as caught:
        client.get("/test/crash")
    assert (caught.value.status, caught.value.code) == (500, "internal")
    assert "DUPONT" not in str(caught.value)
    assert client.get("/test/raw") == b"<x/>"
    with pytest.raises(ApiError) as caught:
        client.request("DELETE", "/health")
    assert (caught.value.status, caught.value.code) == (405, "method_not_allowed")
    with pytest.raises(ApiError) as caught:
        client.get("/nowhere")
    assert caught.value.code == "not_found"


class RoutesPlugin:
    def __init__(self, warmed: threading.Event | None = None):
        self.warmed = warmed

    @hookimpl
    def segur_api_routes(self, runtime):
        return [
            ApiRoute(
                "GET", "/extra/hello", lambda call: {"hello": call.caller}, "extraHello", "Hello."
            )
        ]

    @hookimpl
    def segur_api_warmups(self, runtime):
        return [Warmup("extra.cache", self.warmed.wait)] if self.warmed else []


def test_plugins_add_routes_and_warmups_through_the_hooks(served, make_segur_runtime):
    warmed = threading.Event()
    runtime = make_segur_runtime(extra_plugins=[("extra", RoutesPlugin(warmed))])
    settings = ServeSettings(token=Secret(TOKEN), outbox_worker=False)
    _app, client = served(runtime=runtime, settings=settings)
    assert client.get("/extra/hello") == {"hello": "token"}
    document = client.get("/openapi.json")
    assert document["paths"]["/v1/extra/hello"]["get"]["tags"] == ["extra"]
    with pytest.raises(ApiError) as caught:
        client.get("/ready")
    assert caught.value.status == 503
    assert caught.value.details["warmups"] == {"extra.cache": "warming"}
    warmed.set()
    assert client.wait_ready(timeout=5)["ready"] is True


def test_two_plugins_declaring_one_route_stop_the_service(make_segur_runtime):
    runtime = make_segur_runtime(extra_plugins=[("a", RoutesPlugin()), ("b", RoutesPlugin())])
    with pytest.raises(PluginError, match="also declared"):
        create_app(runtime)


def test_a_route_declaration_is_checked():
    with pytest.raises(ValueError):
        ApiRoute("GET", "no-slash", echo, "x", "x")
    with pytest.raises(ValueError):
        ApiRoute("FETCH", "/x", echo, "x", "x")


def test_mutual_tls_authenticates_callers_by_their_certificate(
    served, make_segur_runtime, tmp_path
):
    from segur_core.sandbox.pki import TestPKI
    from segur_core.serve import ServeClient, ServeTls
    from segur_core.serve.client import ServiceUnavailable
    from segur_core.tls import client_context

    pki = TestPKI.create(tmp_path / "pki")
    settings = ServeSettings(
        tls=ServeTls(pki.server_cert, pki.server_key, pki.ca_bundle), warm=False,
        outbox_worker=False,
    )  # fmt: skip
    app, anonymous = served(settings=settings, routes=EXTRA)
    assert anonymous.url.startswith("https://")

    def client(credential=None):
        context = client_context(
            ca_bundle=pki.ca_bundle,
            cert=credential.cert_path if credential else None,
            key=credential.key_path if credential else None,
            check_validity=False,  # an expired certificate is the server's to refuse
        )
        return ServeClient(anonymous.url, ssl_context=context)

    with client(pki.client("structure")) as known:
        answer = known.post("/test/echo", {"name": "x"})
    assert (
        answer["caller"].startswith("cert:")
        and pki.client("structure").subject_cn in answer["caller"]
    )
    for refused in (None, pki.client("foreign"), pki.client("expired")):
        with client(refused) as stranger, pytest.raises(ServiceUnavailable):
            stranger.post("/test/echo", {"name": "x"})
    assert app.state.service.openapi["paths"]["/v1/test/echo"]["post"]["security"] == [
        {"mutualTLS": []}
    ]


def test_an_answer_json_cannot_hold_is_an_internal_error_in_the_one_shape(served):
    route = ApiRoute("GET", "/test/odd", lambda call: {"when": object()}, "testOdd", "Odd.")
    app, client = served(routes=[route])
    with pytest.raises(ApiError) as caught:
        client.get("/test/odd")
    assert (caught.value.status, caught.value.code) == (500, "internal")
    record = app.state.service.runtime.journal.records(limit=1)[-1]
    assert (record.action, record.details["operation"]) == ("api.call", "testOdd")


def test_head_answers_the_headers_of_get_and_paths_take_one_segment_per_parameter(served):
    _app, client = served(routes=EXTRA)
    answer = httpx.head(client.url + "/v1/health")
    got = httpx.get(client.url + "/v1/health")
    assert (answer.status_code, answer.content) == (200, b"")
    assert answer.headers["content-length"] == got.headers["content-length"]
    assert answer.headers["content-type"] == "application/json"
    with pytest.raises(ApiError) as caught:
        client.get("/outbox/a/b")  # {delivery_id} is one segment
    assert caught.value.code == "not_found"
    assert caught.value.hint == "see /v1/openapi.json"
    with pytest.raises(ApiError) as caught:
        client.get("/outbox/999999")
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    with pytest.raises(ApiError) as caught:
        client.get("/outbox/x1")
    assert caught.value.message == "path.delivery_id: fails pattern '^[0-9]{1,18}$'"


def test_bytes_that_are_not_http_get_the_one_error_shape_and_unauthenticated_first(served):
    import json
    import socket

    _app, client = served(routes=EXTRA)
    address = client.url.removeprefix("http://").rsplit(":", 1)
    for sent, status, code in (
        (b"NOT HTTP AT ALL\r\n\r\n", 400, "malformed"),
        # a body over the limit from a caller without the token: 401 before 413
        (b"POST /v1/test/echo HTTP/1.1\r\nHost: s\r\nContent-Length: 99999999\r\n\r\n", 401,
         "unauthenticated"),
    ):  # fmt: skip
        with socket.create_connection((address[0], int(address[1])), timeout=10) as sock:
            sock.sendall(sent)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 %d " % status) and b"connection: close" in head
        assert json.loads(body)["error"]["code"] == code
