"""Where the runtime's host comes from: a named factory, taken from configuration.

The core never imports a host. The host is configuration: a factory reference
``"package.module:callable"`` is resolved when a runtime starts and called with the
runtime's data directory; the host it returns is closed with the runtime. The reference
is, first found: the ``host`` argument of :func:`~segur_core.runtime.create_runtime` (the
CLI's ``--host``), the ``SEGUR_HOST`` environment variable, the ``[segur] host`` setting,
and only where nothing is named (the demo, first steps) :data:`DEFAULT_HOST_FACTORY`, the
SQLite reference host of :mod:`hostspecs` (shipped with segur-core, one layer above the
core). A factory has the shape the conformance kit's ``--host-factory`` takes, so an LGO
writes it once for both.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path

from segur_core.errors import ConfigError
from segur_core.host.hookspecs import HOST_HOOKS, hostimpl

__all__ = [
    "DEFAULT_HOST_FACTORY",
    "HOST_ENV",
    "HostFactory",
    "call_host_factory",
    "host_setting",
    "is_host",
    "load_host_factory",
    "make_host",
]

#: A callable taking the runtime's data directory and returning the host object.
HostFactory = Callable[[Path], object]

#: The host factory used when nothing names one: a configuration default, resolved when
#: a runtime starts (never imported by the core itself).
DEFAULT_HOST_FACTORY = "hostspecs.reference:reference_host"

#: The environment variable naming the host factory (over ``[segur] host``).
HOST_ENV = "SEGUR_HOST"

_HINT = "a host factory is 'package.module:callable', called with the data directory"
_MARK = f"{hostimpl.project_name}_impl"


def host_setting(
    segur_host: str | None, explicit: str | None = None, default: str = DEFAULT_HOST_FACTORY
) -> tuple[str, str | None]:
    """The host factory reference in force and the setting that named it (``host``,
    ``SEGUR_HOST``, ``segur.host``; ``None`` for ``default``).

    ``segur_host`` is the ``[segur] host`` setting, ``explicit`` the caller's choice."""
    for reference, key in (
        (explicit, "host"),
        (os.environ.get(HOST_ENV, "").strip() or None, HOST_ENV),
        (segur_host, "segur.host"),
    ):
        if reference:
            return reference, key
    return default, None


def load_host_factory(reference: str, *, key: str | None = None) -> HostFactory:
    """The callable named by ``"package.module:callable"``, imported now.

    A module found neither on ``sys.path`` nor installed is looked for in the current
    directory too (the editor's project, as ``python -m`` would). Raises
    :class:`~segur_core.errors.ConfigError` naming ``key`` when the reference is
    malformed, cannot be imported, or names something that is not callable.
    """
    from segur_core.plugin import resolve_reference

    module_name, sep, qualname = reference.partition(":")
    if not (sep and module_name and qualname):
        raise ConfigError(
            f"host factory {reference!r} is not 'package.module:callable'", key=key, hint=_HINT
        )
    try:
        try:
            factory = resolve_reference(reference)
        except ModuleNotFoundError as exc:
            if not _search_cwd(exc, module_name):
                raise
            factory = resolve_reference(reference)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"host factory {reference!r} cannot be loaded: {type(exc).__name__}: {exc}",
            key=key,
            hint=_HINT,
        ) from exc
    if not callable(factory):
        raise ConfigError(f"host factory {reference!r} is not callable", key=key, hint=_HINT)
    return factory


def _search_cwd(exc: ModuleNotFoundError, module_name: str) -> bool:
    """Put the current directory at the end of ``sys.path`` when the missing module is
    the reference's top-level one and the directory was not searched; say if it was."""
    top = module_name.split(".", 1)[0]
    if exc.name != top:
        return False
    cwd = os.getcwd()
    searched = {os.path.realpath(entry or os.curdir) for entry in sys.path}
    if os.path.realpath(cwd) in searched:
        return False
    sys.path.append(cwd)
    return True


def is_host(obj: object) -> bool:
    """Whether ``obj`` implements at least one hook of the host contract."""
    return obj is not None and any(
        getattr(getattr(obj, name, None), _MARK, None) is not None for name in HOST_HOOKS
    )


def call_host_factory(factory: HostFactory, data_dir: Path, config: object = None) -> object:
    """``factory(data_dir)``, or ``factory(data_dir, config=config)`` when the factory
    takes a ``config`` argument (a host configured by its own ``[host]`` table)."""
    if config is not None:
        try:
            parameters = inspect.signature(factory).parameters
        except (TypeError, ValueError):
            parameters = {}  # type: ignore[assignment]
        if "config" in parameters:
            return factory(data_dir, config=config)  # type: ignore[call-arg]
    return factory(data_dir)


def make_host(
    reference: str, data_dir: Path, *, key: str | None = None, config: object = None
) -> object:
    """The host made by the factory ``reference`` for ``data_dir`` (and ``config``, for a
    factory that takes it: :func:`call_host_factory`).

    Raises :class:`~segur_core.errors.ConfigError` naming ``key`` when the factory cannot
    be loaded, fails, or returns something that implements no hook of the contract."""
    factory = load_host_factory(reference, key=key)
    try:
        host = call_host_factory(factory, data_dir, config)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"host factory {reference!r} failed: {type(exc).__name__}: {exc}", key=key
        ) from exc
    if not is_host(host):
        close = getattr(host, "close", None)
        if callable(close):
            close()
        raise ConfigError(
            f"host factory {reference!r} returned {type(host).__qualname__}, which implements"
            " no hook of the host contract",
            key=key,
            hint="return an object whose methods are marked with segur_core.host.hostimpl",
        )
    return host
