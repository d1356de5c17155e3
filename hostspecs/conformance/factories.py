"""Host factories for the conformance kit (``--host-factory=module:callable``)."""

from __future__ import annotations

from pathlib import Path

from hostspecs.reference import ReferenceHost


def reference_host(directory: Path) -> ReferenceHost:
    """The SQLite reference host in ``directory``."""
    return ReferenceHost(directory / "host.sqlite")
