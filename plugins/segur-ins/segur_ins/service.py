"""The INS service of a runtime, for the hooks, the commands and the demo steps.

One :class:`~segur_ins.identification.InsService` per runtime, made on first use through
``runtime.service`` and closed with the runtime (its INSi client, its worker processes).
It lives here, below :mod:`segur_ins.plugin`, :mod:`segur_ins.cli` and
:mod:`segur_ins.demo`, so that the plugin imports them and none of them imports it back.
Importing it is cheap: the service's own modules are imported when it is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segur_core.runtime import Runtime
    from segur_ins.identification import InsService

__all__ = ["NAME", "service"]

#: The plugin's name: its entry point, its ``[ins]`` table, its runtime service key.
NAME = "ins"


def service(runtime: Runtime) -> InsService:
    """The :class:`~segur_ins.identification.InsService` of ``runtime``: one per runtime,
    closed with it (its INSi client, its worker processes)."""

    def make() -> InsService:
        from segur_ins.identification import InsService

        return InsService(runtime, runtime.plugin_config(NAME))

    return runtime.service(NAME, make)
