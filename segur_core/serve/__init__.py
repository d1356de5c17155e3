"""``segur serve``: the runtime as a local HTTP/JSON service any LGO can call.

- :mod:`~segur_core.serve.routes`: :class:`ApiRoute`, :class:`ApiCall`, :class:`Raw`,
  :class:`Warmup`, :class:`ApiError`: what a plugin declares (``segur_api_routes``,
  ``segur_api_warmups``), without the web stack;
- :mod:`~segur_core.serve.app`: :func:`create_app`, the application (no framework);
- :mod:`~segur_core.serve.routing`, :mod:`~segur_core.serve.checks`: its route table and
  the request schemas compiled once;
- :mod:`~segur_core.serve.http11`: the HTTP/1.1 server, one thread per connection;
- :mod:`~segur_core.serve.openapi`: the OpenAPI document, built from the declarations;
- :mod:`~segur_core.serve.settings`: :class:`ServeSettings`, the ``[segur.serve]`` table;
- :mod:`~segur_core.serve.server`: :func:`serve`, on loopback or a Unix socket;
- :mod:`~segur_core.serve.client`: :class:`ServeClient`, a Python client (the CLI's).

See docs/service.md. Names are imported on first use: importing the package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segur_core.lazy import lazy_exports

if TYPE_CHECKING:
    from segur_core.serve.app import create_app
    from segur_core.serve.client import ServeClient
    from segur_core.serve.openapi import API_PREFIX, build_openapi
    from segur_core.serve.routes import ApiCall, ApiError, ApiRoute, Raw, Warmup, object_schema
    from segur_core.serve.server import serve
    from segur_core.serve.settings import ServeSettings, ServeTls

__all__ = [
    "API_PREFIX",
    "ApiCall",
    "ApiError",
    "ApiRoute",
    "Raw",
    "ServeClient",
    "ServeSettings",
    "ServeTls",
    "Warmup",
    "build_openapi",
    "create_app",
    "object_schema",
    "serve",
]

_LAZY = {
    "API_PREFIX": "openapi",
    "ApiCall": "routes",
    "ApiError": "routes",
    "ApiRoute": "routes",
    "Raw": "routes",
    "ServeClient": "client",
    "ServeSettings": "settings",
    "ServeTls": "settings",
    "Warmup": "routes",
    "build_openapi": "openapi",
    "create_app": "app",
    "object_schema": "routes",
    "serve": "server",
}

__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"{__name__}.{module}" for name, module in _LAZY.items()}, globals()
)
