"""pytest plugin of the conformance kit: the ``--host-factory`` option and fixtures."""
