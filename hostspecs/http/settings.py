"""The ``[host]`` table: where the LGO's host API is and how to call it.

.. code-block:: toml

    [segur]
    host = "hostspecs.http:http_host"

    [host]
    url = "https://lgo.pharmacie.local:8443/segur-host/v1"   # the API's base URL
    token = "env:LGO_SEGUR_TOKEN"        # bearer token (env: or file:), optional
    deadline = 10.0                       # seconds, connect to last byte, per call
    max_bytes = 67108864                  # size cap of one answer (64 MiB)

    [host.tls]                            # https: the CA bundle, a client certificate
    ca_bundle = "/etc/pharmasoft/lgo-ca.pem"
    client_pkcs12 = "/etc/pharmasoft/segur-client.p12"
    client_password = "file:/run/secrets/segur-client-password"

``http://`` is accepted for a loopback address only (the LGO on the same machine): over
a network the host API carries patient data and must be ``https://``.
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

import ssl
from typing import Any
from urllib.parse import urlsplit

import attrs

from segur_core.config import Config, structure_table
from segur_core.config_names import HOST_TABLE
from segur_core.errors import ConfigError
from segur_core.limits import positive
from segur_core.production import is_local_endpoint
from segur_core.secrets import Secret
from segur_core.tls import client_context
from segur_core.wire import CallLimits, ClientTls

__all__ = ["TABLE", "HttpHostSettings"]

#: The table of ``segur.toml`` the HTTP host reads.
TABLE = HOST_TABLE

_positive = positive(TABLE)


def _retries(instance: Any, attribute: Any, value: int) -> None:
    if not 0 <= value <= 5:
        raise ConfigError(f"must be between 0 and 5, got {value}", key=f"{TABLE}.{attribute.name}")


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        hostname = None
    if hostname is None or parts.scheme not in ("http", "https"):
        raise ConfigError(
            "expected the http(s):// base URL of the LGO's host API", key=f"{TABLE}.url"
        )
    if parts.scheme == "http" and not is_local_endpoint(url):
        raise ConfigError(
            "http:// is accepted for a loopback address only: the host API carries patient data",
            key=f"{TABLE}.url",
            hint="use https:// with [host.tls] ca_bundle",
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            "the base URL takes no query, fragment or credentials",
            key=f"{TABLE}.url",
            hint="put the token in [host] token = 'env:NAME'",
        )


@attrs.frozen
class HttpHostSettings:
    """Settings of the HTTP host (the ``[host]`` table).

    ``url``: the base URL of the LGO's host API; ``token``: the bearer token sent with
    every call; ``tls``: the ``[host.tls]`` table (CA bundle, client certificate);
    ``deadline``: the total time of one call, in seconds; ``connect_timeout``: how long
    connecting may take within it; ``max_bytes``: the size cap of one answer;
    ``max_connections``: pooled connections; ``retries``: how many times a call that
    failed for a transient reason (unreachable, reset, 502/503/504) is made again, with
    the same ``Idempotency-Key``.
    """

    url: str = attrs.field(validator=lambda _i, _a, value: _check_url(value))
    token: Secret | None = attrs.field(default=None, repr=False)
    tls: ClientTls = attrs.Factory(ClientTls)
    deadline: float = attrs.field(default=10.0, validator=_positive)
    connect_timeout: float = attrs.field(default=3.0, validator=_positive)
    max_bytes: int = attrs.field(default=64 * 1024 * 1024, validator=_positive)
    max_connections: int = attrs.field(default=10, validator=_positive)
    retries: int = attrs.field(default=1, validator=_retries)

    @classmethod
    def from_config(cls, config: Config) -> "HttpHostSettings":
        """The ``[host]`` table of ``config``; :class:`ConfigError` names the key. In
        production an inline token is refused (``env:`` or ``file:`` only)."""
        if "url" not in config.table(TABLE):
            raise ConfigError(
                "the HTTP host needs the base URL of the LGO's host API",
                key=f"{TABLE}.url",
                hint=f'add [{TABLE}] url = "https://..."',
            )
        settings = structure_table(config, TABLE, cls)
        inline = settings.token is not None and settings.token.source == "inline"
        if inline and config.mode == "production":
            raise ConfigError(
                "an inline secret is refused in production mode: use env:NAME or file:PATH",
                key=f"{TABLE}.token",
            )
        return settings

    @property
    def is_https(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    @property
    def limits(self) -> CallLimits:
        return CallLimits(self.deadline, self.max_bytes, self.connect_timeout)

    def ssl_context(self) -> ssl.SSLContext:
        """The client TLS context: the configured CA bundle (else the system's) and the
        client certificate when one is configured (mutual TLS)."""
        tls = self.tls
        password = tls.client_password.reveal() if tls.client_password is not None else None
        if tls.client_pkcs12 is None and tls.client_cert is None and tls.ca_bundle is None:
            return ssl.create_default_context()
        if tls.ca_bundle is None:
            raise ConfigError(
                "a client certificate needs the CA bundle the LGO's certificate chains to",
                key=f"{TABLE}.tls.ca_bundle",
            )
        return client_context(
            ca_bundle=tls.ca_bundle,
            pkcs12=tls.client_pkcs12,
            cert=tls.client_cert,
            key=tls.client_key,
            password=password,
        )
