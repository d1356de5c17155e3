"""segur-mssante: MSSanté secure messaging for pharmacy software.

IHE XDM archives (``IHE_XDM.ZIP``) written from a CDA header and read back safely,
sent by SMTP submission and received by IMAP (STARTTLS; XOAUTH2 with a Pro Santé Connect
token or a client certificate), and the MSSanté directory. See ``mssante.md`` in the
project reference for the facts it follows.

Names are imported on first use: ``segur plugins`` imports :mod:`segur_mssante.plugin`
without paying for lxml.
"""

from __future__ import annotations

from segur_core.lazy import lazy_exports

_EXPORTS = {
    "MSSAuthError": "errors",
    "MSSConfig": "config",
    "MSSRefused": "errors",
    "MSSTransportError": "errors",
    "MessageError": "errors",
    "Issuer": "segur_core.xdm",
    "XDMArchive": "segur_core.xdm",
    "XDMDocument": "segur_core.xdm",
    "XDMError": "errors",
    "read_xdm": "segur_core.xdm",
    "write_xdm": "segur_core.xdm",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        name: module if module.startswith("segur_core.") else f"segur_mssante.{module}"
        for name, module in _EXPORTS.items()
    },
    globals(),
)
