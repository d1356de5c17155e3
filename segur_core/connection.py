"""Plumbing shared by the plugins that call a national service over mutual TLS.

Each such plugin has an endpoint setting (a URL, or ``"sandbox"`` for the local sandbox)
and a ``tls`` table of client-certificate settings (:class:`~segur_core.wire.ClientTls`).
Outside production, missing certificates default to the runtime's test PKI; in
production every one must be configured. These helpers hold that policy once, so that
INSi, DMP and ApCV cannot drift apart.

:func:`client_tls_settings` resolves that policy into :class:`TlsSettings`, a plain
value (file paths and the password) that can be handed to a worker process to build the
same context there; :func:`client_tls` is the context itself.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from segur_core.errors import ConfigError
from segur_core.secrets import reveal
from segur_core.wire.tls import ClientTls, TlsSettings

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = [
    "SANDBOX",
    "ClientTls",
    "TlsSettings",
    "client_tls",
    "client_tls_settings",
    "resolve_endpoint",
    "reveal",
]

#: The endpoint value meaning "the runtime's local sandbox".
SANDBOX = "sandbox"


def _production(runtime: Runtime) -> bool:
    return runtime.config.mode == "production"


def resolve_endpoint(
    value: str, runtime: Runtime, *, sandbox: str, key: str, service: str, hint: str | None = None
) -> str:
    """The service URL for the endpoint setting ``value`` (named ``key`` in errors).

    ``"sandbox"`` is the URL of the runtime's sandbox called ``sandbox``, refused in
    production mode; anything else must be an ``https://`` URL. ``service`` names the
    service in messages; ``hint`` says what to configure instead of the sandbox.
    """
    if value == SANDBOX:
        if _production(runtime):
            raise ConfigError(
                f"the {service} sandbox cannot be used in production mode", key=key, hint=hint
            )
        return runtime.sandbox(sandbox).url
    if not value.startswith("https://"):
        raise ConfigError('must be an https:// URL or "sandbox"', key=key)
    return value


def client_tls_settings(
    tls: ClientTls,
    runtime: Runtime,
    *,
    key: str,
    default_credential: Callable[[Any], Any],
    default_form: Literal["pkcs12", "pem"] = "pkcs12",
) -> TlsSettings:
    """The client TLS settings from a plugin's ``tls`` table (``key`` names it in
    errors: ``"ins.tls"``).

    A PKCS#12 file wins over a PEM pair. With neither, outside production,
    ``default_credential(test_pki)`` gives the test PKI credential to present, used as
    its PKCS#12 file or its PEM pair (``default_form``). In production a missing CA
    bundle or client certificate is a :class:`ConfigError` naming the setting.
    """
    pki = None if _production(runtime) else runtime.test_pki()
    ca_bundle = tls.ca_bundle or (pki.ca_bundle if pki else None)
    if ca_bundle is None:
        raise ConfigError("a CA bundle is required in production", key=f"{key}.ca_bundle")
    ca_bundle = Path(ca_bundle)
    password = reveal(tls.client_password)
    if tls.client_pkcs12 is not None:
        return TlsSettings(ca_bundle, pkcs12=Path(tls.client_pkcs12), password=password)
    if tls.client_cert is not None:
        return TlsSettings(
            ca_bundle,
            cert=Path(tls.client_cert),
            key=Path(tls.client_key) if tls.client_key is not None else None,
            password=password,
        )
    if pki is None:
        raise ConfigError(
            "a client certificate is required in production", key=f"{key}.client_pkcs12"
        )
    credential = default_credential(pki)
    if default_form == "pem":
        return TlsSettings(ca_bundle, cert=credential.cert_path, key=credential.key_path)
    return TlsSettings(ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password)


def client_tls(
    tls: ClientTls,
    runtime: Runtime,
    *,
    key: str,
    default_credential: Callable[[Any], Any],
    default_form: Literal["pkcs12", "pem"] = "pkcs12",
) -> ssl.SSLContext:
    """The client TLS context from a plugin's ``tls`` table: the context of
    :func:`client_tls_settings` (same arguments, same errors)."""
    return client_tls_settings(
        tls, runtime, key=key, default_credential=default_credential, default_form=default_form
    ).context()
