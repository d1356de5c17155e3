"""The segur pytest plugin (registered through the ``pytest11`` entry point).

Fixtures:

* ``segur_runtime`` — a runtime on a temporary reference host, mode ``test``, plugin
  autoload disabled. Override the ``segur_plugins`` fixture (a list of plugin objects)
  to register yours, ``segur_config`` for config tables, or use the marker
  ``@pytest.mark.segur(autoload=True, plugins=["ins"], config={...})``.
* ``make_segur_runtime`` — a factory taking the keywords of
  :func:`~segur_core.runtime.create_runtime` (plus ``autoload``), closing every runtime
  it made at teardown.
* ``hook_recorder`` — a :class:`~segur_core.testing.recorder.HookRecorder` attached to
  ``segur_runtime``.

* ``postgresql_server`` — one real PostgreSQL server per session
  (:class:`~segur_core.testing.postgres.PostgresServer`), skipped with the reason where
  PostgreSQL or psycopg is absent, a failure when ``CI`` is set.
* ``postgresql_database`` — a new database of that server for one test
  (:class:`~segur_core.testing.postgres.PostgresDatabase`: owner, application and
  superuser URLs), dropped afterwards.

Helper: :func:`assert_hookimpls_match_specs`.

This module is imported by every pytest run of the project: it imports nothing heavy
at module level.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from segur_core.runtime import Runtime
    from segur_core.testing.postgres import PostgresDatabase, PostgresServer
    from segur_core.testing.recorder import HookRecorder

__all__ = ["assert_hookimpls_match_specs"]

_HOOK_PREFIXES = ("on_", "segur_", "host_")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "segur(autoload=False, plugins=None, config=None, extra_plugins=(), host=None, "
        "strict=False): options of the segur_runtime fixture",
    )


@pytest.fixture
def segur_plugins() -> list[Any]:
    """Plugin objects ``segur_runtime`` registers; override it in your tests."""
    return []


@pytest.fixture
def segur_config() -> Mapping[str, Any] | None:
    """Config data (parsed TOML) for ``segur_runtime``; override it in your tests."""
    return None


@pytest.fixture
def make_segur_runtime(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Runtime]]:
    """Factory of runtimes on temporary reference hosts, closed at teardown."""
    from segur_core.runtime import create_runtime

    made: list[Runtime] = []

    def make(
        *,
        config: Any = None,
        extra_plugins: Any = (),
        autoload: bool = False,
        plugins: list[str] | None = None,
        mode: str = "test",
        **kwargs: Any,
    ) -> Runtime:
        data: dict[str, Any]
        if config is None or isinstance(config, Mapping):
            data = {k: dict(v) for k, v in (config or {}).items()}
            segur = data.setdefault("segur", {})
            segur.setdefault("mode", mode)
            if plugins is not None:
                segur["plugins"] = list(plugins)
            config = data
        kwargs.setdefault("data_dir", tmp_path_factory.mktemp("segur"))
        runtime = create_runtime(config, extra_plugins=extra_plugins, autoload=autoload, **kwargs)
        made.append(runtime)
        return runtime

    yield make
    for runtime in reversed(made):
        runtime.close()


@pytest.fixture
def segur_runtime(
    request: pytest.FixtureRequest,
    make_segur_runtime: Callable[..., Runtime],
    segur_plugins: list[Any],
    segur_config: Mapping[str, Any] | None,
) -> Runtime:
    """A started runtime on a temporary reference host (see the module docstring)."""
    options: dict[str, Any] = {}
    marker = request.node.get_closest_marker("segur")
    if marker is not None:
        options.update(marker.kwargs)
    extra = list(segur_plugins) + list(options.pop("extra_plugins", ()))
    options.setdefault("config", segur_config)
    return make_segur_runtime(extra_plugins=extra, **options)


@pytest.fixture
def hook_recorder(segur_runtime: Runtime) -> Iterator[HookRecorder]:
    """Records every hook call ``segur_runtime`` makes from now on."""
    from segur_core.testing.recorder import HookRecorder

    recorder = HookRecorder.attach(segur_runtime)
    yield recorder
    recorder.detach()


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (see the module docstring)."""
    import os

    from segur_core.testing.postgres import PostgresServer, postgres_missing

    missing = postgres_missing()
    if missing:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"the PostgreSQL tests must run in CI: {missing}")
        pytest.skip(missing)
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgresql_database(postgresql_server: PostgresServer) -> Iterator[PostgresDatabase]:
    """A new, empty database on the session's server, dropped after the test."""
    database = postgresql_server.create_database()
    yield database
    postgresql_server.drop_database(database)


def assert_hookimpls_match_specs(plugin: object) -> None:
    """Fail with a clear message if ``plugin`` (module, class or instance) implements a
    hook that does not exist, asks for arguments the spec does not give, or defines a
    function named like a hook but forgot the ``@hookimpl`` marker."""
    import pluggy

    from segur_core._loader import new_plugin_manager

    pm = new_plugin_manager()
    problems: list[str] = []
    try:
        pm.register(plugin, name="plugin-under-test")
    except pluggy.PluginValidationError as exc:
        raise AssertionError(f"hook implementation does not match its spec: {exc}") from None
    for caller in pm.get_hookcallers(plugin) or ():
        if not caller.has_spec():
            problems.append(f"{caller.name}: no such hook in the plugin or host specs")
    for name in dir(plugin):
        if not name.startswith(_HOOK_PREFIXES) or pm.parse_hookimpl_opts(plugin, name):
            continue
        value = getattr(plugin, name, None)
        if (inspect.isfunction(value) or inspect.ismethod(value)) and hasattr(pm.hook, name):
            problems.append(f"{name}: looks like a hook implementation but lacks @hookimpl")
    if problems:
        raise AssertionError("plugin hooks do not match the specs:\n  " + "\n  ".join(problems))
