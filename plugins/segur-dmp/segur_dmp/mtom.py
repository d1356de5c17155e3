"""MTOM/XOP framing (W3C SOAP 1.2 MTOM, XOP): ``multipart/related`` messages whose root
part is the SOAP envelope (``application/xop+xml``) and whose other parts are raw binary
attachments referenced by ``xop:Include href="cid:..."``.

The builder never base64-encodes attachments; the parser is strict (both the DMP client,
for responses, and the sandbox, for requests, use it): every framing fault raises
:class:`~segur_dmp.errors.MTOMError`.
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
from collections.abc import Iterable, Mapping
from email.message import Message

import attrs

from segur_core.model import hidden
from segur_dmp.errors import MTOMError

__all__ = [
    "SOAP_CONTENT_TYPE",
    "Attachment",
    "MTOMMessage",
    "build_mtom",
    "cid_href",
    "parse_content_type",
    "parse_mtom",
]

SOAP_CONTENT_TYPE = "application/soap+xml"
XOP_CONTENT_TYPE = "application/xop+xml"
MAX_PARTS = 1000
MAX_HEADER_BYTES = 8192
#: Size limit for one XML document entering the plugin (SOAP envelope, CDA, value set):
#: passed as ``max_bytes`` to :func:`segur_core.safexml.parse_xml`; fits MTOM messages.
MAX_XML_BYTES = 64 * 1024 * 1024
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BOUNDARY = re.compile(r"^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$")
_CID = re.compile(r"^<([^<>\s]+)>$")
_ALLOWED_CTE = {"binary", "8bit", "7bit"}


@attrs.frozen
class Attachment:
    """A binary part: its Content-ID (without angle brackets), media type and bytes."""

    content_id: str
    data: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    content_type: str = "application/octet-stream"


@attrs.frozen
class MTOMMessage:
    """A parsed MTOM message: the root SOAP envelope bytes and the attachments by cid."""

    root: bytes = attrs.field(repr=hidden)
    attachments: Mapping[str, Attachment]
    root_content_id: str
    action: str | None = None

    def attachment(self, href: str) -> bytes:
        """The bytes of the part an ``xop:Include/@href`` (``cid:...``) points to."""
        if not href.startswith("cid:"):
            raise MTOMError(f"xop:Include href {href[:80]!r} is not a cid: URL")
        cid = urllib.parse.unquote(href[4:])
        try:
            return self.attachments[cid].data
        except KeyError:
            raise MTOMError(f"xop:Include references a missing part <{cid[:80]}>") from None


def cid_href(content_id: str) -> str:
    """The ``cid:`` URL of a Content-ID (RFC 2392, percent-encoded)."""
    return "cid:" + urllib.parse.quote(content_id, safe="@.-_!$&'()*+,;=:~")


def _new_boundary(parts: Iterable[bytes]) -> str:
    chunks = list(parts)
    while True:
        boundary = "MIMEBoundary_" + secrets.token_hex(16)
        marker = b"--" + boundary.encode("ascii")
        if not any(marker in chunk for chunk in chunks):
            return boundary


def build_mtom(
    envelope: bytes,
    attachments: Iterable[Attachment] = (),
    *,
    action: str | None = None,
    root_content_id: str | None = None,
) -> tuple[str, bytes]:
    """Frame a SOAP 1.2 envelope and its attachments as MTOM.

    Returns ``(content_type_header, body)``. Attachments go as raw bytes
    (``Content-Transfer-Encoding: binary``); the boundary is chosen so that it never
    occurs in any part.
    """
    attachments = list(attachments)
    root_cid = root_content_id or f"root.{secrets.token_hex(8)}@segur"
    seen = {root_cid}
    for att in attachments:
        if att.content_id in seen or not _CID.match(f"<{att.content_id}>"):
            raise MTOMError(f"invalid or duplicate Content-ID {att.content_id[:80]!r}")
        seen.add(att.content_id)
    boundary = _new_boundary([envelope, *(a.data for a in attachments)])
    out = bytearray()
    root_type = f'{XOP_CONTENT_TYPE}; charset=UTF-8; type="{SOAP_CONTENT_TYPE}"'
    if action:
        root_type += f'; action="{action}"'
    parts = [(root_cid, root_type, envelope)]
    parts += [(a.content_id, a.content_type, a.data) for a in attachments]
    for cid, ctype, data in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        out += f"Content-Type: {ctype}\r\n".encode()
        out += b"Content-Transfer-Encoding: binary\r\n"
        out += f"Content-ID: <{cid}>\r\n\r\n".encode()
        out += data
        out += b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    header = (
        f'multipart/related; boundary="{boundary}"; type="{XOP_CONTENT_TYPE}"; '
        f'start="<{root_cid}>"; start-info="{SOAP_CONTENT_TYPE}"'
    )
    if action:
        header += f'; action="{action}"'
    return header, bytes(out)


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Split a Content-Type header into its lower-cased media type and parameters."""
    if not value or len(value) > MAX_HEADER_BYTES or not value.isascii():
        raise MTOMError("missing, oversized or non-ASCII Content-Type")
    msg = Message()
    msg["Content-Type"] = value
    media = value.split(";", 1)[0].strip().lower()
    if not _TOKEN.match(media):
        raise MTOMError(f"malformed media type {media[:60]!r}")
    params: dict[str, str] = {}
    for key, val in msg.get_params(header="content-type", unquote=True)[1:]:
        key = key.strip().lower()
        if key in params:
            raise MTOMError(f"parameter {key!r} repeated in Content-Type")
        params[key] = val if isinstance(val, str) else str(val)
    return media, params


def _parse_headers(block: bytes) -> dict[str, str]:
    if len(block) > MAX_HEADER_BYTES:
        raise MTOMError("part headers too large")
    try:
        text = block.decode("ascii")
    except UnicodeDecodeError:
        raise MTOMError("part headers are not ASCII") from None
    headers: dict[str, str] = {}
    last = None
    for line in text.split("\r\n"):
        if not line:
            continue
        if line[0] in " \t":
            if last is None:
                raise MTOMError("part headers start with a continuation line")
            headers[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        name = name.strip().lower()
        if not sep or not name or " " in name:
            raise MTOMError(f"malformed part header line {line[:60]!r}")
        if name in headers:
            raise MTOMError(f"part header {name!r} repeated")
        headers[name] = value.strip()
        last = name
    return headers


def parse_mtom(content_type: str, body: bytes, *, max_parts: int = MAX_PARTS) -> MTOMMessage:
    """Parse an MTOM/XOP ``multipart/related`` message, strictly.

    Checks the ``type``/``start``/``start-info`` parameters, the framing (delimiters,
    close delimiter, CRLF), each part's headers (Content-ID unique, Content-Type present,
    no base64 transfer encoding) and the root part's type.
    """
    media, params = parse_content_type(content_type)
    if media != "multipart/related":
        raise MTOMError(f"expected multipart/related, got {media!r}")
    boundary = params.get("boundary")
    if not boundary or not _BOUNDARY.match(boundary):
        raise MTOMError("missing or invalid multipart boundary")
    if params.get("type", "").lower() != XOP_CONTENT_TYPE:
        raise MTOMError('multipart/related type parameter must be "application/xop+xml"')
    if params.get("start-info", "").lower() != SOAP_CONTENT_TYPE:
        raise MTOMError('start-info must be "application/soap+xml" (SOAP 1.2)')
    start = params.get("start")
    if start is not None:
        match = _CID.match(start.strip())
        if not match:
            raise MTOMError("start parameter is not a <content-id>")
        start = match.group(1)

    delimiter = b"--" + boundary.encode("ascii")
    if body.startswith(delimiter):
        pos = 0
    else:
        pos = body.find(b"\r\n" + delimiter)
        if pos < 0:
            raise MTOMError("no multipart delimiter found in the body")
        pos += 2
    parts: list[tuple[dict[str, str], bytes]] = []
    closed = False
    while True:
        pos += len(delimiter)
        if body[pos : pos + 2] == b"--":
            closed = True
            break
        # transport padding then CRLF
        eol = body.find(b"\r\n", pos)
        if eol < 0 or body[pos:eol].strip(b" \t"):
            raise MTOMError("malformed delimiter line")
        start_part = eol + 2
        nxt = body.find(b"\r\n" + delimiter, start_part)
        if nxt < 0:
            raise MTOMError("part is not terminated by a delimiter (truncated message?)")
        raw = body[start_part:nxt]
        head_end = raw.find(b"\r\n\r\n")
        if raw.startswith(b"\r\n"):
            head, content = b"", raw[2:]
        elif head_end < 0:
            raise MTOMError("part has no header/body separator")
        else:
            head, content = raw[:head_end], raw[head_end + 4 :]
        parts.append((_parse_headers(head), content))
        if len(parts) > max_parts:
            raise MTOMError(f"more than {max_parts} parts")
        pos = nxt + 2
    if not closed:
        raise MTOMError("missing close delimiter")
    if not parts:
        raise MTOMError("multipart message has no part")

    attachments: dict[str, Attachment] = {}
    order: list[str] = []
    for headers, content in parts:
        cid_value = headers.get("content-id")
        match = _CID.match(cid_value or "")
        if not match:
            raise MTOMError("part without a valid Content-ID")
        cid = match.group(1)
        if cid in attachments:
            raise MTOMError(f"Content-ID <{cid[:80]}> used twice")
        cte = headers.get("content-transfer-encoding", "binary").lower()
        if cte not in _ALLOWED_CTE:
            raise MTOMError(f"Content-Transfer-Encoding {cte!r} not allowed in MTOM (raw binary)")
        ctype = headers.get("content-type")
        if not ctype:
            raise MTOMError(f"part <{cid[:80]}> has no Content-Type")
        attachments[cid] = Attachment(cid, content, ctype)
        order.append(cid)
    root_cid = start if start is not None else order[0]
    if root_cid not in attachments:
        raise MTOMError("the start part is not in the message")
    root_media, root_params = parse_content_type(attachments[root_cid].content_type)
    if root_media != XOP_CONTENT_TYPE or root_params.get("type", "").lower() != SOAP_CONTENT_TYPE:
        raise MTOMError('root part must be application/xop+xml; type="application/soap+xml"')
    root = attachments.pop(root_cid).data
    action = params.get("action") or root_params.get("action")
    return MTOMMessage(root=root, attachments=attachments, root_content_id=root_cid, action=action)
