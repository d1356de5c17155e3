"""Hook implementations of segur-eprescription (entry point ``eprescription`` in group
``segur``).

Imported by ``segur plugins``: everything heavy (lxml, the client, the sandbox) is
imported inside the hooks that need it.
"""

from __future__ import annotations

from segur_core import hookimpl
from segur_core.plugin import PluginInfo, distribution_version

NAME = "eprescription"


@hookimpl
def segur_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        version=distribution_version("segur-eprescription"),
        summary="Ordonnance numérique: scan, read (eP-MED-DM), dispense, eDISP-MED",
        capabilities=("eprescription",),
        requires_core=">=0.1,<1",
    )
