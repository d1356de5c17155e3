"""The ``[portability]`` table of ``segur.toml``.

Every field has a default: outside production the archive is signed with a structure
certificate of the runtime's test PKI.

.. code-block:: toml

    [portability]
    signing_cert = "/etc/segur/org-sign.pem"   # IGC-Santé ORG SIGN: signs SIGN.XML
    signing_key = "/etc/segur/org-sign.key"
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

from pathlib import Path

import attrs

__all__ = ["PortabilityConfig"]


@attrs.frozen
class PortabilityConfig:
    """Settings of the segur-portability plugin.

    ``signing_cert``/``signing_key``: the structure's signing certificate and key (PEM)
    for ``SIGN.XML``; ``source_id``: the software's OID, the XDM submission sets'
    ``sourceId``; ``ca_bundle``: the CAs ``segur export verify`` checks the signer
    against by default.
    """

    signing_cert: Path | None = None
    signing_key: Path | None = None
    ca_bundle: Path | None = None
    source_id: str = "1.2.250.1.213.1.1.9.999"
