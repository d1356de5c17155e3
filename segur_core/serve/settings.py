"""The ``[segur.serve]`` table: where ``segur serve`` listens and who may call it.

Safe by default: loopback (or a Unix socket) only, a bearer token or mutual TLS for
every caller, small request bodies. Listening on another address needs
``allow_remote = true`` *and* mutual TLS, so that no patient data ever crosses a network
in clear or to an anonymous caller.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from segur_core.errors import ConfigError
from segur_core.secrets import Secret, resolve

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_PORT", "ServeSettings", "ServeTls"]

DEFAULT_PORT = 8765
#: Largest request body accepted by default: a CDA document with its PDF fits.
DEFAULT_MAX_BODY = 8 * 1024 * 1024

_KEYS = (
    "host",
    "port",
    "socket",
    "url",
    "token",
    "tls",
    "allow_remote",
    "max_body_bytes",
    "grace_seconds",
    "outbox_worker",
    "warm",
)
_TLS_KEYS = ("cert", "key", "ca_bundle")


@attrs.frozen
class ServeTls:
    """The service's own certificate and key, and the CA bundle its clients' certificates
    chain to (mutual TLS: a client without a certificate from it is refused)."""

    cert: Path
    key: Path
    ca_bundle: Path


@attrs.frozen
class ServeSettings:
    """Where the service listens, how callers authenticate, what it accepts.

    ``host``/``port``: the TCP address (default ``127.0.0.1:8765``); ``socket``: a Unix
    socket path instead (0600). ``url``: where clients (``segur cda validate``) find a
    running service; default from ``socket`` or ``host``/``port``. ``token``: the bearer
    token every call must carry (``env:``/``file:``); ``tls``: mutual TLS. With neither,
    the service listens on a Unix socket only (the file's permissions are the
    authentication). ``max_body_bytes``: larger requests are refused (413).
    ``grace_seconds``: how long a stop waits for calls under way. ``outbox_worker``: run
    the outbox worker inside the service. ``warm``: warm the validators at start.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    socket: Path | None = None
    url: str | None = None
    token: Secret | None = None
    tls: ServeTls | None = None
    allow_remote: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY
    grace_seconds: float = 10.0
    outbox_worker: bool = True
    warm: bool = True
    #: Set only by ``segur serve`` and the tests, never by the config file: serve over TCP
    #: without a token (loopback only), for a developer's first try.
    insecure_loopback: bool = False

    @property
    def is_loopback(self) -> bool:
        if self.socket is not None:
            return True
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def client_url(self) -> str:
        """The base URL a client on this machine uses (``unix:PATH`` for a socket)."""
        if self.url:
            return self.url
        if self.socket is not None:
            return f"unix:{self.socket}"
        scheme = "https" if self.tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def check(self) -> None:
        """Refuse an unsafe combination, naming the setting (:class:`ConfigError`)."""
        if not self.is_loopback and not self.allow_remote:
            raise ConfigError(
                f"refusing to listen on {self.host!r}, not a loopback address",
                key="segur.serve.host",
                hint="use 127.0.0.1 or a Unix socket, or set allow_remote = true with tls",
            )
        if not self.is_loopback and self.tls is None:
            raise ConfigError(
                "a service reachable from the network needs mutual TLS",
                key="segur.serve.tls",
                hint="set cert, key and ca_bundle (segur pki makes test ones)",
            )
        if (
            self.socket is None
            and self.token is None
            and self.tls is None
            and not self.insecure_loopback
        ):
            raise ConfigError(
                "a TCP service needs a bearer token or mutual TLS",
                key="segur.serve.token",
                hint="token = 'env:SEGUR_SERVE_TOKEN', or listen on a Unix socket (--socket)",
            )

    @classmethod
    def from_config(cls, config: Any) -> ServeSettings:
        """The settings of a :class:`~segur_core.config.Config` (its ``[segur.serve]``)."""
        table = config.settings.serve
        return cls() if table is None else cls.from_table(table, config.base_dir)

    @classmethod
    def from_table(cls, table: Any, base: Path, key: str = "segur.serve") -> ServeSettings:
        """Read a ``[segur.serve]`` table (paths relative to ``base``); a
        :class:`ConfigError` names the wrong key."""
        if not isinstance(table, Mapping):
            raise ConfigError(f"expected a table, got {type(table).__name__}", key=key)
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise ConfigError("unknown key", key=f"{key}.{unknown[0]}", hint=f"known keys: {_KEYS}")
        values: dict[str, Any] = {}
        if "host" in table:
            values["host"] = _text(table["host"], f"{key}.host")
        if "port" in table:
            port = table["port"]
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
                raise ConfigError("expected a port number 0-65535", key=f"{key}.port")
            values["port"] = port
        if "socket" in table:
            values["socket"] = _path(table["socket"], base, f"{key}.socket")
        if "url" in table:
            values["url"] = _text(table["url"], f"{key}.url")
        if "token" in table:
            values["token"] = resolve(table["token"], key=f"{key}.token", base_dir=base)
            if not values["token"].reveal().strip():
                raise ConfigError("the token is empty", key=f"{key}.token")
        if "tls" in table:
            values["tls"] = _tls(table["tls"], base, f"{key}.tls")
        for name in ("allow_remote", "outbox_worker", "warm"):
            if name in table:
                if not isinstance(table[name], bool):
                    raise ConfigError("expected a boolean (bool)", key=f"{key}.{name}")
                values[name] = table[name]
        if "max_body_bytes" in table:
            size = table["max_body_bytes"]
            if isinstance(size, bool) or not isinstance(size, int) or not 1024 <= size <= 2**30:
                raise ConfigError(
                    "expected a number of bytes between 1024 and 2**30",
                    key=f"{key}.max_body_bytes",
                )
            values["max_body_bytes"] = size
        if "grace_seconds" in table:
            grace = table["grace_seconds"]
            if (
                isinstance(grace, bool)
                or not isinstance(grace, int | float)
                or not math.isfinite(grace)
                or not 0 <= grace <= 600
            ):
                raise ConfigError("expected seconds between 0 and 600", key=f"{key}.grace_seconds")
            values["grace_seconds"] = float(grace)
        return cls(**values)


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise ConfigError("expected a non-empty string (str)", key=key)
    return value.strip()


def _path(value: Any, base: Path, key: str) -> Path:
    path = Path(_text(value, key)).expanduser()
    return path if path.is_absolute() else base / path


def _tls(table: Any, base: Path, key: str) -> ServeTls:
    if not isinstance(table, Mapping):
        raise ConfigError(f"expected a table, got {type(table).__name__}", key=key)
    unknown = sorted(set(table) - set(_TLS_KEYS))
    if unknown:
        raise ConfigError("unknown key", key=f"{key}.{unknown[0]}", hint=f"known keys: {_TLS_KEYS}")
    missing = [name for name in _TLS_KEYS if name not in table]
    if missing:
        raise ConfigError(
            "missing (mutual TLS needs cert, key and ca_bundle)", key=f"{key}.{missing[0]}"
        )
    return ServeTls(**{name: _path(table[name], base, f"{key}.{name}") for name in _TLS_KEYS})
