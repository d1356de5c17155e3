"""What production mode refuses in the plugins' settings, found at start.

A pharmacy in production must never talk to a sandbox or to its own machine believing
it reaches a national service, and must not keep passwords in ``segur.toml``. Every
plugin's configuration is walked (its sub-tables too): an endpoint setting
(``endpoint``, ``*_endpoint``, ``*_url``, ``server``) that is ``"sandbox"`` or names a
loopback host, and a :class:`~segur_core.secrets.Secret` given inline (not ``env:`` or
``file:``), is a :class:`ProductionProblem`. The runtime refuses to start on any
(:class:`ProductionError`, which carries them all); ``segur doctor`` lists them one a
line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import attrs

from segur_core.errors import ConfigError
from segur_core.secrets import Secret

__all__ = [
    "ProductionError",
    "ProductionProblem",
    "is_endpoint_key",
    "is_local_endpoint",
    "production_problems",
]

_SANDBOX = "sandbox"


@attrs.frozen
class ProductionProblem:
    """One setting production mode refuses: ``key`` (``dmp.endpoint``) and why."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ProductionError(ConfigError):
    """Production mode refused settings at start; ``problems`` lists every one."""

    def __init__(self, problems: Iterable[ProductionProblem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        more = len(self.problems) - 1
        super().__init__(
            first.message + (f" (and {more} more: segur doctor lists them)" if more else ""),
            key=first.key,
        )


def is_endpoint_key(name: str) -> bool:
    """Whether a setting named ``name`` holds the address of a remote service."""
    return name in ("endpoint", "server") or name.endswith(("_endpoint", "_url", "_server"))


def _host(value: str) -> str | None:
    if "://" in value:
        try:
            return urlsplit(value).hostname
        except ValueError:
            return None
    return value.split(":")[0].strip("[]").lower() or None


def is_local_endpoint(value: str) -> bool:
    """``"sandbox"``, or a URL or host name on this machine (``localhost``, ``127.0.0.0/8``,
    ``::1``, ``0.0.0.0``)."""
    if value.strip().lower() == _SANDBOX:
        return True
    host = _host(value.strip())
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _walk(table: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    for field in attrs.fields(type(table)):
        value = getattr(table, field.name)
        key = f"{prefix}.{field.name}"
        if attrs.has(type(value)):
            yield from _walk(value, key)
        else:
            yield key, value


def production_problems(name: str, config: Any) -> list[ProductionProblem]:
    """The settings of plugin ``name`` (its config instance) production mode refuses."""
    if config is None or not attrs.has(type(config)):
        return []
    problems = []
    for key, value in _walk(config, name):
        leaf = key.rsplit(".", 1)[-1]
        if isinstance(value, str) and is_endpoint_key(leaf) and is_local_endpoint(value):
            what = "the sandbox" if value.strip().lower() == _SANDBOX else "a loopback address"
            problems.append(
                ProductionProblem(key, f"{what} cannot be used in production mode: set the"
                                  " service's URL")
            )  # fmt: skip
        elif isinstance(value, Secret) and value.source == "inline":
            problems.append(
                ProductionProblem(key, "an inline secret is refused in production mode: use"
                                  " env:NAME or file:PATH")
            )  # fmt: skip
    return problems
