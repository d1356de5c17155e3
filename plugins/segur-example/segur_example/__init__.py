"""segur-example: the worked example of a segur plugin.

It counts the counter events it sees, journals each one, shows the counts with
``segur example stats`` and in ``segur demo``. ``docs/writing-plugins.md`` walks
through it.
"""

from segur_example.config import EVENTS, ExampleConfig
from segur_example.counting import EventCounter

__all__ = ["EVENTS", "EventCounter", "ExampleConfig"]
