"""MTOM/XOP framing: round trips (hypothesis) and strict refusal of malformed messages."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_dmp.errors import MTOMError
from segur_dmp.mtom import Attachment, build_mtom, cid_href, parse_content_type, parse_mtom
from segur_dmp.soap import parse_envelope

from segur_core.errors import InputError

ENVELOPE = (
    b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"/>'
)

cids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._%-]{0,20}@[a-z]{1,8}", fullmatch=True)
blobs = st.binary(max_size=2048) | st.sampled_from(
    [b"--MIMEBoundary_", b"\r\n--\r\n\r\n", b"\r\n\r\n", b"--", b"\x00" * 10]
)


@given(
    st.lists(st.tuples(cids, blobs), max_size=5, unique_by=lambda t: t[0]), st.binary(max_size=200)
)
def test_round_trip(parts, root_extra):
    envelope = ENVELOPE + root_extra
    attachments = [Attachment(cid, data, "application/octet-stream") for cid, data in parts]
    ctype, body = build_mtom(envelope, attachments, action="urn:test")
    message = parse_mtom(ctype, body)
    assert message.root == envelope
    assert message.action == "urn:test"
    assert {c: a.data for c, a in message.attachments.items()} == dict(parts)
    for cid, data in parts:
        assert message.attachment(cid_href(cid)) == data


def test_binary_parts_are_raw_not_base64():
    data = bytes(range(256))
    ctype, body = build_mtom(ENVELOPE, [Attachment("doc@x", data)])
    assert data in body
    assert 'type="application/xop+xml"' in ctype and 'start-info="application/soap+xml"' in ctype
    assert 'start="<' in ctype


@given(st.binary(max_size=600))
def test_garbage_is_a_typed_error(garbage):
    ctype, _ = build_mtom(ENVELOPE, [Attachment("a@b", b"x")])
    with contextlib.suppress(MTOMError):
        parse_mtom(ctype, garbage)


@given(st.binary(min_size=1, max_size=400), st.integers(min_value=0))
def test_truncated_or_corrupted_messages_are_refused_or_consistent(noise, where):
    ctype, body = build_mtom(ENVELOPE, [Attachment("a@b", b"payload")])
    cut = where % len(body)
    for candidate in (body[:cut], body[:cut] + noise + body[cut:]):
        try:
            message = parse_mtom(ctype, candidate)
        except MTOMError:
            continue
        assert message.root  # whatever parses is a complete message with its root


def _ok() -> tuple[str, bytes]:
    return build_mtom(ENVELOPE, [Attachment("a@b", b"x")])


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda c, b: (c.replace("multipart/related", "multipart/mixed"), b), "multipart/related"),
        (lambda c, b: (c.replace('type="application/xop+xml"', 'type="text/xml"'), b), "type"),
        (lambda c, b: (c.replace("start-info", "x-info"), b), "start-info"),
        (lambda c, b: (c.replace('start="<', 'start="<zz'), b), "start"),
        (lambda c, b: (c, b.replace(b"--\r\n", b"\r\n")), "close delimiter"),
        (lambda c, b: (c, b.replace(b"binary", b"base64", 1)), "base64"),
        (lambda c, b: (c, b.replace(b"Content-ID: <a@b>", b"Content-ID: a@b")), "Content-ID"),
        (lambda c, b: (c, b.replace(b"Content-ID: <a@b>", b"X-Id: <a@b>")), "Content-ID"),
        (
            lambda c, b: (c, b.replace(b"<a@b>", b"<" + b.split(b"<", 2)[1].split(b">")[0] + b">")),
            "twice",
        ),
    ],
)
def test_framing_errors(mutate, reason):
    ctype, body = mutate(*_ok())
    with pytest.raises(MTOMError):
        parse_mtom(ctype, body)


@given(st.text(max_size=200))
def test_garbage_content_type_is_a_typed_error(value):
    with contextlib.suppress(MTOMError):
        parse_content_type(value)


@given(st.binary(max_size=400))
def test_garbage_envelope_is_a_typed_error(data):
    with contextlib.suppress(InputError):
        parse_envelope(data)


def test_sandbox_answers_garbage_with_a_sender_fault(pki):
    from segur_dmp.sandbox import DMPApp, Registry

    app = DMPApp(Registry(), ca_bundle=str(pki.ca_bundle))
    ctype, body = build_mtom(b"<not-soap/>", [Attachment("a@b", b"x")])
    for path, content_type, payload in [
        ("/repository", ctype, body),
        ("/repository", "application/soap+xml", b"<soap/>"),
        ("/registry", ctype, body[:50]),
        ("/patients", "text/plain", b"hello"),
        ("/patients", "application/soap+xml", b"\x00\xff"),
    ]:
        status, answer_type, answer = app.handle(path, content_type, payload, None)
        assert status == 400 and answer_type.startswith("application/soap+xml")
        assert b"Fault" in answer
