"""The conformance kit, run against the host contract over HTTP: every check of
``hostspecs.conformance`` with the reference host served by the reference LGO side and
called through the adapter, as ``pytest --pyargs hostspecs.conformance
--host-factory=hostspecs.conformance.factories:http_reference_host`` runs them (here in
this session, without a second interpreter)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from hostspecs.conformance.factories import http_reference_host
from hostspecs.conformance.test_contract import *  # noqa: F403 - the kit's checks, all of them
from hostspecs.http import HttpHost


@pytest.fixture
def host_under_test(tmp_path: Path) -> Iterator[HttpHost]:
    host = http_reference_host(tmp_path)
    yield host
    host.close()


def test_the_kit_runs_here_over_http(host_under_test: HttpHost) -> None:
    assert isinstance(host_under_test, HttpHost)
    assert host_under_test.settings.url.startswith("http://127.0.0.1:")
