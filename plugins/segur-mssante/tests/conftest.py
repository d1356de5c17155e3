"""Fixtures of the segur-mssante tests: the official example archives (``../shared/xdm``,
skipped with the reason where absent) and a note de vaccination built by segur."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def vaccination_cda() -> bytes:
    """A note de vaccination (N3) built by segur-documents for the qualified sample patient."""
    import datetime as dt

    from segur_documents.builders import build_vaccination
    from segur_documents.demo import demo_contents
    from segur_documents.testing import sample_context

    vaccination = demo_contents(dt.date(2024, 10, 2))["vaccination"]
    return build_vaccination(vaccination, sample_context()).xml
