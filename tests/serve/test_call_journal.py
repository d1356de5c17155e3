"""A call's records and its ``api.call`` record in one commit, durable before the answer:
an INSi search over HTTP, and a handler that fails after recording what it did."""

from __future__ import annotations

import pytest

from segur_core.serve import ApiError, ApiRoute
from segur_core.serve.demo import CARD_READING

TRAITS = CARD_READING["traits"]  # the demo card's holder, whom the INSi sandbox knows


def _after(client, seq: int) -> list[dict]:
    """The records after record ``seq``, as a client reads them once it has its answer."""
    return [r for r in client.get("/audit", limit=50)["records"] if r["seq"] > seq]


def _last_seq(app) -> int:
    return app.state.service.runtime.journal.head()[0]


def test_an_insi_search_over_http_is_journaled_with_its_call_in_one_commit(
    served, make_segur_runtime
):
    pytest.importorskip("segur_ins")
    runtime = make_segur_runtime(mode="demo", plugins=["ins"], autoload=True)
    app, client = served(runtime=runtime)
    before = _last_seq(app)
    answer = client.post("/ins/search", {"traits": TRAITS})
    assert answer["found"]
    search, call = _after(client, before)
    assert (search["action"], search["outcome"]) == ("insi.search", "ok")
    assert (call["action"], call["actor"]) == ("api.call", "token")
    assert call["details"] == {"operation": "insSearch", "status": 200}
    assert search["at"] == call["at"]  # one transaction (the journal's moment is per commit)


def _searched_then_failed(call):
    call.runtime.journal.record_later([{"action": "insi.search", "service": "insi"}])
    raise RuntimeError("the handler failed after the search")


def test_a_handler_failing_midway_has_its_records_written_with_the_calls_error(served):
    route = ApiRoute("POST", "/test/fail", _searched_then_failed, "testFail", "Fail.")
    app, client = served(routes=[route])
    before = _last_seq(app)
    with pytest.raises(ApiError) as refused:
        client.post("/test/fail")
    assert refused.value.status == 500
    search, call = _after(client, before)
    assert search["action"] == "insi.search"
    assert (call["action"], call["outcome"]) == ("api.call", "error")
    assert call["details"] == {"operation": "testFail", "status": 500}
    assert search["at"] == call["at"]


def test_a_public_routes_waiting_records_are_written_before_its_answer(served):
    def public(call):
        call.runtime.journal.record_later([{"action": "test.public"}])
        return {"ok": True}

    route = ApiRoute("GET", "/test/public", public, "testPublic", "Public.", public=True)
    app, client = served(routes=[route])
    before = _last_seq(app)
    assert client.get("/test/public") == {"ok": True}
    assert [r["action"] for r in _after(client, before)] == ["test.public"]
