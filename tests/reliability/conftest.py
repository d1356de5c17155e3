"""Fixtures of the reliability tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .stores import BACKENDS, Store, make_store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The outbox's and journal's store, once on SQLite and once on PostgreSQL."""
    return make_store(request, request.param, tmp_path)
