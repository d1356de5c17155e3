"""Helpers for tests of segur-dmp and of plugins that use it (sandbox DMP, kit examples)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from segur_core.model import INS, Practitioner, Structure
from segur_core.tls import client_context

__all__ = ["KIT_CX", "KIT_INS", "PHARMACIST", "STRUCTURE", "kit_example", "make_client"]

KIT = Path(__file__).resolve().parents[3] / ".." / "shared" / "cisis" / "TestContenuCDA-3-0"
EXAMPLES = KIT / "ExemplesCDA"
#: The INS of the kit examples' patient (test NIR OID).
KIT_INS = INS("279035121518989", "1.2.250.1.213.1.4.10")
KIT_CX = "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"

STRUCTURE = Structure(finess="999990013", name="PHARMACIE DU SANDBOX")
PHARMACIST = Practitioner(
    rpps="10999900003", family_name="TEST", given_name="Claire", specialty="G15_21/A"
)


def kit_example(name: str) -> bytes:
    """A CDA example of the ANS kit; skips the calling test when the kit is absent."""
    import pytest

    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"the ANS CDA kit example {name} is not in ../shared/cisis")
    return path.read_bytes()


def make_client(pki: Any, credential: Any, url: str, *, structure=STRUCTURE, timeout=10.0):
    """A DMP client for ``structure`` with a test PKI credential."""
    from segur_dmp.client import DMPClient, Endpoints
    from segur_dmp.vihf import StructureSigner

    return DMPClient(
        endpoints=Endpoints(url),
        ssl_context=client_context(
            ca_bundle=pki.ca_bundle, cert=credential.cert_path, key=credential.key_path
        ),
        signer=StructureSigner.from_files(str(credential.key_path), str(credential.cert_path)),
        structure=structure,
        practitioner=PHARMACIST,
        timeout=timeout,
    )
