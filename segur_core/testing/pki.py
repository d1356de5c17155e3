"""The test PKI, kept importable here: it lives in :mod:`segur_core.sandbox.pki` (demo
mode and the sandboxes use it outside tests)."""

from segur_core.sandbox.pki import (
    CPS_IDNAT,
    CPS_RPPS,
    STRUCTURE_FINESS,
    STRUCTURE_IDNAT,
    Credential,
    TestPKI,
)

__all__ = ["CPS_IDNAT", "CPS_RPPS", "STRUCTURE_FINESS", "STRUCTURE_IDNAT", "Credential", "TestPKI"]
