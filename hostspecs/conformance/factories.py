"""Host factories for the conformance kit (``--host-factory=module:callable``)."""

from hostspecs.reference import reference_host

__all__ = ["reference_host"]
