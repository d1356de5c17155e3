"""Where the runtime's host comes from when the caller gives none: a named factory.

The core never imports a host. When :func:`~segur_core.runtime.create_runtime` gets no
``host``, it resolves a factory reference ``"package.module:callable"`` at run time and
calls it with the runtime's data directory; the host it returns is closed with the
runtime. The default, :data:`DEFAULT_HOST_FACTORY`, is the SQLite reference host of
:mod:`hostspecs` (shipped with segur-core, one layer above the core). A factory has the
shape the conformance kit's ``--host-factory`` takes, so an LGO writes it once for both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from segur_core.errors import ConfigError

__all__ = ["DEFAULT_HOST_FACTORY", "HostFactory", "load_host_factory"]

#: A callable taking the runtime's data directory and returning the host object.
HostFactory = Callable[[Path], object]

#: The host factory used when the caller gives no host: a configuration default,
#: resolved when a runtime starts (never imported by the core itself).
DEFAULT_HOST_FACTORY = "hostspecs.reference:reference_host"


def load_host_factory(reference: str) -> HostFactory:
    """The callable named by ``"package.module:callable"``, imported now.

    Raises :class:`~segur_core.errors.ConfigError` when the reference is malformed, cannot
    be imported, or names something that is not callable.
    """
    from segur_core.plugin import resolve_reference

    module_name, sep, qualname = reference.partition(":")
    hint = "a host factory is 'package.module:callable', called with the data directory"
    if not (sep and module_name and qualname):
        raise ConfigError(f"host factory {reference!r} is not 'package.module:callable'", hint=hint)
    try:
        factory = resolve_reference(reference)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"host factory {reference!r} cannot be loaded: {type(exc).__name__}: {exc}", hint=hint
        ) from exc
    if not callable(factory):
        raise ConfigError(f"host factory {reference!r} is not callable", hint=hint)
    return factory
