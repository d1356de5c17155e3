"""Shared fixtures of the security tests: one test PKI per session."""

from __future__ import annotations

import pytest

from segur_core.testing.pki import TestPKI


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"))
