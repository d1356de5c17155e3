"""segur-mssante: MSSanté secure messaging for pharmacy software.

IHE XDM archives (``IHE_XDM.ZIP``) written from a CDA header and read back safely,
sent by SMTP submission and received by IMAP (STARTTLS; XOAUTH2 with a Pro Santé Connect
token or a client certificate), and the MSSanté directory. See ``mssante.md`` in the
project reference for the facts it follows.

Names are imported on first use: ``segur plugins`` imports :mod:`segur_mssante.plugin`
without paying for lxml.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "MSSAuthError": "errors",
    "MSSConfig": "config",
    "MSSRefused": "errors",
    "MSSTransportError": "errors",
    "MessageError": "errors",
    "Issuer": "xdm",
    "XDMArchive": "xdm",
    "XDMDocument": "xdm",
    "XDMError": "errors",
    "read_xdm": "xdm",
    "write_xdm": "xdm",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'segur_mssante' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"segur_mssante.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
