"""The national-service client layer: what every connector to a national service shares.

- :mod:`~segur_core.wire.soap`: SOAP 1.2 envelopes with WS-Addressing and
  ``wsse:Security``, their parsing, SOAP faults (read by clients, written by sandboxes);
- :mod:`~segur_core.wire.signing`: the XML-DSig :class:`Signer` protocol and
  :class:`KeySigner` (PKCS#12 or PEM, ``signxml``);
- :mod:`~segur_core.wire.tls`: :class:`ClientTls`, the ``tls`` table every plugin
  config embeds, and :class:`TlsSettings`, its resolved picklable form;
- :mod:`~segur_core.wire.http`: :class:`HttpCaller`, one POST with a total deadline and
  a streamed, size-capped answer, failures typed (:mod:`~segur_core.wire.errors`);
  through libcurl (:mod:`~segur_core.wire.curl`) for a context made by
  :func:`segur_core.tls.client_context`, through httpcore otherwise.

A plugin keeps what is its service's own (bodies, service headers, MTOM, its errors).
Names are imported on first use: importing the package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segur_core.lazy import lazy_exports

if TYPE_CHECKING:
    from segur_core.wire.errors import (
        AnswerTooLarge,
        CallTimeout,
        ServerCertificateError,
        ServiceUnreachable,
        SoapFormatError,
    )
    from segur_core.wire.http import Answer, CallLimits, HttpCaller
    from segur_core.wire.signing import KeySigner, Signer
    from segur_core.wire.soap import Envelope, Fault
    from segur_core.wire.tls import ClientTls, TlsSettings

__all__ = [
    "Answer",
    "AnswerTooLarge",
    "CallLimits",
    "CallTimeout",
    "ClientTls",
    "Envelope",
    "Fault",
    "HttpCaller",
    "KeySigner",
    "ServerCertificateError",
    "ServiceUnreachable",
    "Signer",
    "SoapFormatError",
    "TlsSettings",
]

_LAZY = {
    "AnswerTooLarge": "errors",
    "CallTimeout": "errors",
    "ServerCertificateError": "errors",
    "ServiceUnreachable": "errors",
    "SoapFormatError": "errors",
    "Answer": "http",
    "CallLimits": "http",
    "HttpCaller": "http",
    "KeySigner": "signing",
    "Signer": "signing",
    "Envelope": "soap",
    "Fault": "soap",
    "ClientTls": "tls",
    "TlsSettings": "tls",
}


__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"segur_core.wire.{module}" for name, module in _LAZY.items()}, globals()
)
