"""The host contract over HTTP: segur calls the LGO's own endpoints.

An LGO that is not written in Python implements the host contract as a small HTTP API
(:data:`ROUTES`, described in the OpenAPI document of :func:`openapi_document`) and
names this package's factory in ``segur.toml``:

.. code-block:: toml

    [segur]
    host = "hostspecs.http:http_host"

    [host]
    url = "http://127.0.0.1:8700/segur-host/v1"
    token = "env:LGO_SEGUR_TOKEN"

:class:`HttpHost` is the adapter (failures typed, :mod:`hostspecs.http.errors`);
:mod:`hostspecs.http.server` the reference LGO side the tests and the conformance kit
run against (``--host-factory=hostspecs.conformance.factories:http_reference_host``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hostspecs.http.client import HttpHost
from hostspecs.http.errors import (
    HostAnswerError,
    HostCallError,
    HostCertificateError,
    HostCursorError,
    HostRefused,
    HostTimeout,
    HostUnavailable,
)
from hostspecs.http.settings import TABLE, HttpHostSettings
from segur_core.host.api import API_VERSION, NOT_FOUND, ROUTES, Route
from segur_core.host.openapi import openapi_document

if TYPE_CHECKING:
    from segur_core.config import Config

__all__ = [
    "API_VERSION",
    "NOT_FOUND",
    "ROUTES",
    "TABLE",
    "HostAnswerError",
    "HostCallError",
    "HostCertificateError",
    "HostCursorError",
    "HostRefused",
    "HostTimeout",
    "HostUnavailable",
    "HttpHost",
    "HttpHostSettings",
    "Route",
    "http_host",
    "openapi_document",
]


def http_host(data_dir: Path, config: Config | None = None) -> HttpHost:
    """The host factory (``[segur] host = "hostspecs.http:http_host"``): an
    :class:`HttpHost` with the ``[host]`` table of ``config`` (the runtime passes its
    own; without one, ``segur.toml`` found as :func:`~segur_core.config.load_config`
    finds it). ``data_dir`` is not used: the LGO keeps the data."""
    if config is None:
        from segur_core.config import load_config

        config = load_config()
    return HttpHost(HttpHostSettings.from_config(config))
