"""Plumbing shared by the plugins that call a national service over mutual TLS.

Each such plugin has an endpoint setting (a URL, or ``"sandbox"`` for the local sandbox)
and the same client-certificate settings (``client_pkcs12``/``client_password`` or
``client_cert``/``client_key``, ``ca_bundle``). Outside production, missing certificates
default to the runtime's test PKI; in production every one must be configured. These
helpers hold that policy once, so that INSi, DMP and ApCV cannot drift apart.

:func:`client_tls_settings` resolves that policy into :class:`TlsSettings`, a plain
value (file paths and the password) that can be handed to a worker process to build the
same context there; :func:`client_tls` is the context itself.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import attrs

from segur_core.errors import ConfigError
from segur_core.secrets import reveal
from segur_core.tls import client_context

__all__ = [
    "SANDBOX",
    "TlsSettings",
    "client_tls",
    "client_tls_settings",
    "resolve_endpoint",
    "reveal",
]

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


@attrs.frozen
class TlsSettings:
    """What a client TLS context is made of: the CA bundle and the client certificate,
    a PKCS#12 file or a PEM pair (``password`` protects either; never shown in a repr).
    Picklable, so that a worker process can build the same context."""

    ca_bundle: Path
    pkcs12: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    password: str | None = attrs.field(default=None, repr=False)

    def context(self) -> ssl.SSLContext:
        """A client context for httpx, smtplib and imaplib (see :func:`client_context`)."""
        if self.pkcs12 is not None:
            return client_context(
                ca_bundle=self.ca_bundle, pkcs12=self.pkcs12, password=self.password
            )
        return client_context(
            ca_bundle=self.ca_bundle, cert=self.cert, key=self.key, password=self.password
        )


def client_tls_settings(
    section: Any,
    runtime: Any,
    *,
    key_prefix: str,
    default_credential: Callable[[Any], Any],
    default_form: Literal["pkcs12", "pem"] = "pkcs12",
) -> TlsSettings:
    """The client TLS settings from a plugin's config ``section``.

    ``key_prefix`` is how the settings are named in ``segur.toml`` (``"ins."``,
    ``"vitale.apcv_"``): the attributes read are the part after the table name followed
    by ``ca_bundle``, ``client_pkcs12``, ``client_password``, ``client_cert`` and
    ``client_key``. A PKCS#12 file wins over a PEM pair. With neither, outside production,
    ``default_credential(test_pki)`` gives the test PKI credential to present, used as
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
    ca_bundle = Path(ca_bundle)
    password = reveal(setting("client_password"))
    if setting("client_pkcs12") is not None:
        return TlsSettings(ca_bundle, pkcs12=Path(setting("client_pkcs12")), password=password)
    if setting("client_cert") is not None:
        key = setting("client_key")
        return TlsSettings(
            ca_bundle,
            cert=Path(setting("client_cert")),
            key=Path(key) if key is not None else None,
            password=password,
        )
    if pki is None:
        raise ConfigError(
            "a client certificate is required in production", key=key_prefix + "client_pkcs12"
        )
    credential = default_credential(pki)
    if default_form == "pem":
        return TlsSettings(ca_bundle, cert=credential.cert_path, key=credential.key_path)
    return TlsSettings(ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password)


def client_tls(
    section: Any,
    runtime: Any,
    *,
    key_prefix: str,
    default_credential: Callable[[Any], Any],
    default_form: Literal["pkcs12", "pem"] = "pkcs12",
) -> ssl.SSLContext:
    """The client TLS context from a plugin's config ``section``: the context of
    :func:`client_tls_settings` (same arguments, same errors)."""
    return client_tls_settings(
        section, runtime, key_prefix=key_prefix, default_credential=default_credential,
        default_form=default_form,
    ).context()  # fmt: skip
