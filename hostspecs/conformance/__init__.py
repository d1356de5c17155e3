"""Conformance kit: pytest checks any host implementation against the host contract."""
