"""The reference host's factory: SQLite by default, PostgreSQL when the configuration
names a store (kept apart from both hosts so that neither imports the other)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hostspecs.reference.host import ReferenceHost

__all__ = ["reference_host"]


def reference_host(directory: Path, config: Any = None) -> ReferenceHost:
    """The reference host in ``directory/host.sqlite``: the runtime's default host
    factory (:data:`segur_core.host.DEFAULT_HOST_FACTORY`) and the conformance kit's.
    With a PostgreSQL ``[segur] store`` in ``config``, the pharmacy's host there
    (:mod:`hostspecs.reference.postgres`)."""
    if getattr(getattr(config, "settings", None), "store_url", None):
        from hostspecs.reference.postgres import postgres_host

        return postgres_host(directory, config)
    return ReferenceHost(directory / "host.sqlite")
