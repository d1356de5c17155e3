"""Plumbing shared by the plugins that call a national service over mutual TLS.

Each such plugin has an endpoint setting (a URL, or ``"sandbox"`` for the local sandbox)
and the same client-certificate settings (``client_pkcs12``/``client_password`` or
``client_cert``/``client_key``, ``ca_bundle``). Outside production, missing certificates
default to the runtime's test PKI; in production every one must be configured. These
helpers hold that policy once, so that INSi, DMP and ApCV cannot drift apart.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any, Literal

from segur_core.errors import ConfigError
from segur_core.secrets import reveal
from segur_core.tls import client_context

__all__ = ["SANDBOX", "client_tls", "resolve_endpoint", "reveal"]

#: The endpoint value meaning "the runtime's local sandbox".
SANDBOX = "sandbox"


def _production(runtime: Any) -> bool:
    return runtime.config.mode == "production"


def resolve_endpoint(
    value: str, runtime: Any, *, sandbox: str, key: str, service: str, hint: str | None = None
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


def client_tls(
    section: Any,
    runtime: Any,
    *,
    key_prefix: str,
    default_credential: Callable[[Any], Any],
    default_form: Literal["pkcs12", "pem"] = "pkcs12",
) -> ssl.SSLContext:
    """The client TLS context from a plugin's config ``section``.

    ``key_prefix`` is how the settings are named in ``segur.toml`` (``"ins."``,
    ``"vitale.apcv_"``): the attributes read are the part after the table name followed
    by ``ca_bundle``, ``client_pkcs12``, ``client_password``, ``client_cert`` and
    ``client_key``. A PKCS#12 file wins over a PEM pair. With neither, outside production,
    ``default_credential(test_pki)`` gives the test PKI credential to present, loaded as
    its PKCS#12 file or its PEM pair (``default_form``). In production a missing CA
    bundle or client certificate is a :class:`ConfigError` naming the setting.
    """
    attribute = key_prefix.partition(".")[2]

    def setting(name: str) -> Any:
        return getattr(section, attribute + name)

    pki = None if _production(runtime) else runtime.test_pki()
    ca_bundle = setting("ca_bundle") or (pki.ca_bundle if pki else None)
    if ca_bundle is None:
        raise ConfigError("a CA bundle is required in production", key=key_prefix + "ca_bundle")
    if setting("client_pkcs12") is not None:
        return client_context(
            ca_bundle=ca_bundle,
            pkcs12=setting("client_pkcs12"),
            password=reveal(setting("client_password")),
        )
    if setting("client_cert") is not None:
        return client_context(
            ca_bundle=ca_bundle,
            cert=setting("client_cert"),
            key=setting("client_key"),
            password=reveal(setting("client_password")),
        )
    if pki is None:
        raise ConfigError(
            "a client certificate is required in production", key=key_prefix + "client_pkcs12"
        )
    credential = default_credential(pki)
    if default_form == "pem":
        return client_context(
            ca_bundle=ca_bundle, cert=credential.cert_path, key=credential.key_path
        )
    return client_context(
        ca_bundle=ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
    )
