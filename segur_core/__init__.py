"""segur: Ségur du numérique capabilities for pharmacy management software.

The public API of the core. Importing this package is cheap: the runtime, the config
and the errors are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from segur_core._version import __version__
from segur_core.hookspecs import PROJECT

#: Marks a function as a segur hook implementation (plugins and hosts).
hookimpl = pluggy.HookimplMarker(PROJECT)

if TYPE_CHECKING:
    from segur_core import errors
    from segur_core.config import Config, load_config
    from segur_core.host import Host
    from segur_core.runtime import Runtime, create_runtime
    from segur_core.secrets import Secret

__all__ = [
    "PROJECT",
    "Config",
    "Host",
    "Runtime",
    "Secret",
    "__version__",
    "create_runtime",
    "errors",
    "hookimpl",
    "load_config",
]

_LAZY = {
    "Config": "segur_core.config",
    "load_config": "segur_core.config",
    "Host": "segur_core.host",
    "Runtime": "segur_core.runtime",
    "create_runtime": "segur_core.runtime",
    "Secret": "segur_core.secrets",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "errors":
        return importlib.import_module("segur_core.errors")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'segur_core' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
