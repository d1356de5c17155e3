"""Sandbox transcripts: every exchange recorded, within their bounds."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segur_core.sandbox import Sandbox, Transcript


class Upper(Sandbox):
    name = "upper"

    def build_app(self) -> Starlette:
        async def upper(request: Request) -> Response:
            return Response((await request.body()).upper(), media_type="text/plain")

        return Starlette(routes=[Route("/up", upper, methods=["POST"])])


def test_exchanges_are_recorded_in_order_and_bounded(tmp_path) -> None:
    sandbox = Upper()
    sandbox.transcript = Transcript(max_exchanges=2, max_body=4)
    with sandbox:
        for body in (b"abcdef", b"xy", b"ignored"):
            assert httpx.post(f"{sandbox.url}/up", content=body).content == body.upper()
        httpx.get(f"{sandbox.url}/nowhere")
    first, second = sandbox.transcript.exchanges  # the third and fourth are beyond the bound
    assert (first.method, first.path, first.status) == ("POST", "/up", 200)
    assert first.request_body == b"abcd" and first.response_body == b"ABCD"  # cut at 4 bytes
    assert first.response_type.startswith("text/plain")
    assert second.request_body == b"xy" and second.response_body == b"XY"
    written = sandbox.transcript.write(tmp_path)
    assert [p.name for p in written] == [
        "001-request.http",
        "001-response.http",
        "002-request.http",
        "002-response.http",
    ]


def test_no_transcript_by_default() -> None:
    with Upper() as sandbox:
        httpx.post(f"{sandbox.url}/up", content=b"a")
        assert sandbox.transcript is None
