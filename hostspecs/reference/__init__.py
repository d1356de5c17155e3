"""The reference host: the host contract on SQLite, the runtime's default host."""

from hostspecs.reference.factory import reference_host
from hostspecs.reference.host import (
    DEMO_PRACTITIONER,
    DEMO_STRUCTURE,
    ReferenceHost,
    default_decision,
)
from hostspecs.reference.schema import SCHEMA_VERSION

__all__ = [
    "DEMO_PRACTITIONER",
    "DEMO_STRUCTURE",
    "SCHEMA_VERSION",
    "ReferenceHost",
    "default_decision",
    "reference_host",
]
