"""A Python client of ``segur serve``: what the CLI (``segur cda validate``), the demo
and the tests call it with. Errors come back typed: the service's error shape becomes an
:class:`~segur_core.serve.routes.ApiError` with the same status, code and message.

It speaks HTTP/1.1 with the standard library's ``http.client``, one kept-alive
connection per thread: a call costs the caller a fraction of what a general client such
as httpx does (docs/performance.md, segur serve), which matters to a workstation that
shares its cores with the service.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from segur_core.errors import SegurError
from segur_core.serve.openapi import API_PREFIX
from segur_core.serve.routes import ApiError
from segur_core.serve.settings import ServeSettings
from segur_core.wire.sockets import readable_now

__all__ = ["ServeClient", "ServiceUnavailable"]


class ServiceUnavailable(SegurError):
    """No service answers at the configured address."""


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket (``unix:PATH``)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("segur", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class ServeClient:
    """Calls to a running service at ``url`` (``http(s)://host:port`` or ``unix:PATH``).

    ``token``: the bearer token; ``ssl_context``: for mutual TLS (a client certificate).
    Thread-safe (one connection per thread). Use as a context manager, or call
    :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 60.0,
        actor: str | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if actor:
            headers["X-Segur-Actor"] = actor
        self.url = url
        self._headers = headers
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._target: tuple[str, str, int | None] | None = None  # not a service URL
        self._prefix = API_PREFIX
        if url.startswith("unix:"):
            self._target = ("unix", url[5:], None)
        else:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.hostname:
                self._target = (parts.scheme, parts.hostname, parts.port)
                self._prefix = parts.path.rstrip("/") + API_PREFIX
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: ServeSettings, **kwargs: Any) -> ServeClient:
        """A client of the service ``settings`` describe (its URL and token)."""
        token = settings.token.reveal() if settings.token is not None else None
        return cls(settings.client_url(), token=token, **kwargs)

    def _connection(self) -> http.client.HTTPConnection:
        """This thread's connection: a kept one unless the service closed it meanwhile
        (the service closes a connection left idle for a few seconds)."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None and readable_now(conn.sock.fileno()):
            conn.close()  # the next request opens a new one
        if conn is None:
            if self._target is None:
                raise ServiceUnavailable(
                    f"no segur service answers at {self.url}: not a service URL",
                    hint="http(s)://host:port or unix:PATH ([segur.serve] url)",
                )
            scheme, where, port = self._target
            if scheme == "unix":
                conn = _UnixConnection(where, self._timeout)
            elif scheme == "https":
                context = self._ssl_context or ssl.create_default_context()
                conn = http.client.HTTPSConnection(
                    where, port, timeout=self._timeout, context=context
                )
            else:
                conn = http.client.HTTPConnection(where, port, timeout=self._timeout)
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        media_type: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Call ``method path`` (below ``/v1``); the JSON answer, or ``bytes`` for another
        media type. A refusal raises :class:`ApiError`; no answer
        :class:`ServiceUnavailable`."""
        headers = dict(self._headers)
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            media_type = "application/json"
        if media_type:
            headers["Content-Type"] = media_type
        target = self._prefix + quote(path, safe="/%:@!$&'()*+,;=-._~")
        if params:
            target += "?" + urlencode({k: _param(v) for k, v in params.items()})
        conn = self._connection()
        try:
            conn.request(method, target, body=content, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise ServiceUnavailable(
                f"no segur service answers at {self.url} ({type(exc).__name__})",
                hint="start it with `segur serve`",
            ) from None
        if answer.will_close:
            conn.close()
        kind = answer.getheader("content-type") or ""
        if answer.status >= 400:
            raise _error(answer.status, data, kind)
        if kind.startswith("application/json"):
            return json.loads(data)
        return data

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json_body=body)

    def wait_ready(self, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until ``/v1/ready`` says ready; its last answer. :class:`ServiceUnavailable`
        when ``timeout`` passes first, or a warm-up failed."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            try:
                return dict(self.get("/ready"))
            except ApiError as exc:
                last = exc.details
                failed = {
                    k: v
                    for k, v in (last or {}).get("warmups", {}).items()
                    if v.startswith("failed")
                }
                if failed:
                    raise ServiceUnavailable(f"the service cannot warm up: {failed}") from None
            except ServiceUnavailable:
                pass
            if time.monotonic() > deadline:
                raise ServiceUnavailable(f"the service at {self.url} is not ready ({last})")
            time.sleep(0.1)

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

    def __enter__(self) -> ServeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error(status: int, content: bytes, kind: str) -> ApiError:
    try:
        data = json.loads(content) if kind.startswith("application/json") else None
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        return ApiError(
            status,
            str(error.get("code", "error")),
            str(error.get("message", "")),
            hint=error.get("hint"),
            details=error.get("details"),
        )
    if isinstance(data, dict) and "ready" in data:  # /v1/ready while warming
        return ApiError(status, "not_ready", "the service is not ready", details=data)
    return ApiError(status, "http_error", f"HTTP {status} from the service")
