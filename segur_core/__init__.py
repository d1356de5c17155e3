"""segur: Ségur du numérique capabilities for pharmacy management software."""

from segur_core._version import __version__
from segur_core.hookspecs import PROJECT

import pluggy

hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["__version__", "hookimpl"]
