"""A Python client of ``segur serve``: what the CLI (``segur cda validate``), the demo
and the tests call it with. Errors come back typed: the service's error shape becomes an
:class:`~segur_core.serve.routes.ApiError` with the same status, code and message.
"""

from __future__ import annotations

import json
import ssl
import time
from typing import Any

from segur_core.errors import SegurError
from segur_core.serve.openapi import API_PREFIX
from segur_core.serve.routes import ApiError
from segur_core.serve.settings import ServeSettings

__all__ = ["ServeClient", "ServiceUnavailable"]


class ServiceUnavailable(SegurError):
    """No service answers at the configured address."""


class ServeClient:
    """Calls to a running service at ``url`` (``http(s)://host:port`` or ``unix:PATH``).

    ``token``: the bearer token; ``ssl_context``: for mutual TLS (a client certificate).
    Use as a context manager, or call :meth:`close`.
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
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if actor:
            headers["X-Segur-Actor"] = actor
        if url.startswith("unix:"):
            transport = httpx.HTTPTransport(uds=url[5:])
            base = "http://segur"
        else:
            transport = httpx.HTTPTransport(verify=ssl_context or True)
            base = url.rstrip("/")
        self.url = url
        self._http = httpx.Client(
            base_url=base + API_PREFIX, transport=transport, headers=headers, timeout=timeout
        )

    @classmethod
    def from_settings(cls, settings: ServeSettings, **kwargs: Any) -> ServeClient:
        """A client of the service ``settings`` describe (its URL and token)."""
        token = settings.token.reveal() if settings.token is not None else None
        return cls(settings.client_url(), token=token, **kwargs)

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
        import httpx

        headers = {}
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            media_type = "application/json"
        if media_type:
            headers["Content-Type"] = media_type
        try:
            answer = self._http.request(
                method, path, content=content, params=params, headers=headers
            )
        except httpx.TransportError as exc:
            raise ServiceUnavailable(
                f"no segur service answers at {self.url} ({type(exc).__name__})",
                hint="start it with `segur serve`",
            ) from None
        kind = answer.headers.get("content-type", "")
        if answer.status_code >= 400:
            raise _error(answer.status_code, answer.content, kind)
        if kind.startswith("application/json"):
            return answer.json()
        return answer.content

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
        self._http.close()

    def __enter__(self) -> ServeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


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
