"""segur-example: the worked example of a segur plugin.

It counts the counter events it sees, journals each one, shows the counts with
``segur example stats`` and in ``segur demo``. ``docs/writing-plugins.md`` walks
through it.

Names are imported on first use, so that loading the plugin (``segur plugins``) does
not import its attrs config class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segur_core.lazy import lazy_exports

if TYPE_CHECKING:
    from segur_example.config import EVENTS, ExampleConfig
    from segur_example.counting import EventCounter

__all__ = ["EVENTS", "EventCounter", "ExampleConfig"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "EVENTS": "segur_example.config",
        "ExampleConfig": "segur_example.config",
        "EventCounter": "segur_example.counting",
    },
    globals(),
)
