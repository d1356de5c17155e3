"""The few ASGI pieces ``segur serve`` needs, without a web framework in the way.

A call to the service goes through what is here and nothing else: the route table (a
dictionary for fixed paths, one regular expression per path with parameters), the
request's headers, query and body (counted against the size limit while it is read),
and the answer (two ASGI messages). A framework's middleware stack, router and request
objects cost more per call than the whole of this (see docs/performance.md, segur
serve), and the service uses none of what they add: its errors, authentication and
journal are its own.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl

from segur_core.serve.routes import ApiError

__all__ = ["Incoming", "RouteTable", "read_body", "send_answer"]

T = TypeVar("T")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class RouteTable(Generic[T]):
    """Which declared operation answers a method and a path: a path's ``{name}``
    segments match one non-empty segment (``[^/]+``) and are returned by name. ``HEAD``
    is answered by the ``GET`` operation of the path. ``hint``: said with a 404."""

    def __init__(self, entries: Iterable[tuple[str, str, T]], *, hint: str | None = None) -> None:
        self._hint = hint
        self._fixed: dict[str, dict[str, T]] = {}
        patterns: dict[str, tuple[re.Pattern[str], dict[str, T]]] = {}
        for method, path, value in entries:
            if _PARAM.search(path):
                patterns.setdefault(path, (_compile(path), {}))[1][method] = value
            else:
                self._fixed.setdefault(path, {})[method] = value
        self._patterns = list(patterns.values())

    def match(self, method: str, path: str) -> tuple[T, dict[str, str]]:
        """The operation and the path's parameters; :class:`ApiError` 404 (no such
        path) or 405 (no such method on the path)."""
        params: dict[str, str] = {}
        methods = self._fixed.get(path)
        if methods is None:
            for pattern, candidates in self._patterns:
                found = pattern.match(path)
                if found is not None:
                    methods, params = candidates, found.groupdict()
                    break
        if methods is None:
            raise ApiError(404, "not_found", "no such operation", hint=self._hint)
        value = methods.get("GET" if method == "HEAD" else method)
        if value is None:
            raise ApiError(405, "method_not_allowed", f"{method} is not allowed here")
        return value, params


def _compile(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_][a-z0-9_]*\})", path)
    return re.compile(
        "^"
        + "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
            for part in parts
        )
        + "$"
    )


class Incoming:
    """A request's scope, read once: its headers by lower-case name (the first of
    repeated ones), its query parameters in order, its client's address."""

    __slots__ = ("headers", "method", "path", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        self.headers = headers

    def query(self) -> list[tuple[str, str]]:
        """The query parameters, as given (blank values kept)."""
        raw = self.scope.get("query_string", b"")
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if raw else []

    @property
    def extensions(self) -> Mapping[str, Any]:
        return self.scope.get("extensions") or {}

    @property
    def client_host(self) -> str | None:
        client = self.scope.get("client")
        return str(client[0]) if client else None


async def read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    """The request body; :class:`ApiError` 413 as soon as the declared length or the
    bytes received go over ``limit`` (the rest is never read), 400 for a
    ``Content-Length`` that is not a number or a client gone before the end."""
    too_large = ApiError(
        413,
        "too_large",
        f"the body is larger than {limit} bytes",
        hint="[segur.serve] max_body_bytes",
    )
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "malformed", "Content-Length is not a number")
        if int(declared) > limit:
            raise too_large
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ApiError(400, "malformed", "the client went away before the end of the body")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_answer(
    send: Send,
    status: int,
    content: bytes,
    media_type: str,
    headers: Mapping[str, str] | None = None,
    *,
    head: bool = False,
) -> None:
    """Answer ``status`` with ``content`` (headers only for ``HEAD``); a ``text/*``
    media type gets ``charset=utf-8`` when it names none."""
    if media_type.startswith("text/") and "charset=" not in media_type:
        media_type += "; charset=utf-8"
    raw = [
        (b"content-length", str(len(content)).encode("latin-1")),
        (b"content-type", media_type.encode("latin-1")),
    ]
    if headers:
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else content})
