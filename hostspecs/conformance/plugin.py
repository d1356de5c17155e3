"""pytest plugin of the conformance kit: the ``--host-factory`` option and its fixtures.

Registered for every pytest run through the ``pytest11`` entry point; it only adds an
option and fixtures, so it costs nothing to the suites that do not use the kit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hostspecs.conformance.contract import Contract
from segur_core.errors import ConfigError
from segur_core.host import load_host_factory

DEFAULT_FACTORY = "hostspecs.conformance.factories:reference_host"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("segur-host", "segur host conformance kit")
    group.addoption(
        "--host-factory",
        default=None,
        metavar="MODULE:CALLABLE",
        help="callable taking a temporary directory and returning the host object to check"
        f" (default: {DEFAULT_FACTORY}, the SQLite reference host)",
    )


def load_factory(spec: str) -> Callable[[Path], Any]:
    """Import ``module:callable`` as the runtime does (a module of the current directory,
    the editor's project, is found too); a clear usage error when it cannot be."""
    try:
        return load_host_factory(spec, key="--host-factory")
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from error


def pytest_configure(config: pytest.Config) -> None:
    spec = config.getoption("--host-factory", default=None)
    if spec:
        config.stash[_FACTORY] = load_factory(spec)


_FACTORY = pytest.StashKey[Callable[[Path], Any]]()


@pytest.fixture
def host_under_test(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh host made by the configured factory, closed after the test."""
    factory = request.config.stash.get(_FACTORY, None) or load_factory(DEFAULT_FACTORY)
    host = factory(tmp_path)
    yield host
    close = getattr(host, "close", None)
    if callable(close):
        close()


@pytest.fixture
def contract(host_under_test: Any) -> Contract:
    """The host wrapped in the contract checker the kit's tests call."""
    return Contract(host_under_test)
