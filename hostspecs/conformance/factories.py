"""Host factories for the conformance kit (``--host-factory=module:callable``).

``reference_host`` is the SQLite reference host itself; ``http_reference_host`` is the
same host behind the reference LGO side of the host API, called through
:class:`hostspecs.http.HttpHost`: the kit checks the HTTP adapter and the API together.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from hostspecs.reference import reference_host

if TYPE_CHECKING:
    from hostspecs.http import HttpHost

__all__ = ["http_reference_host", "reference_host"]


def http_reference_host(directory: Path) -> HttpHost:
    """The reference host served on loopback by the reference LGO side (needs the
    ``sandbox`` extra: starlette, uvicorn), with a bearer token, and the HTTP adapter
    calling it; closing the adapter stops the server."""
    from hostspecs.http import HttpHost, HttpHostSettings
    from hostspecs.http.server import ReferenceLgo
    from segur_core.secrets import Secret

    class ServedHttpHost(HttpHost):
        """An :class:`HttpHost` that stops the reference LGO it calls when it is closed."""

        def close(self) -> None:
            super().close()
            lgo.close()

    token = secrets.token_urlsafe(24)
    lgo = ReferenceLgo(directory, token=token).start()
    try:
        return ServedHttpHost(HttpHostSettings(lgo.url, token=Secret(token)))
    except BaseException:
        lgo.close()
        raise
