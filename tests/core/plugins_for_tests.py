"""Small plugins the core tests register: a well-behaved one, one that raises."""

from __future__ import annotations

from segur_core import hookimpl
from segur_core.plugin import PluginInfo


class Counting:
    """Records every event it sees."""

    def __init__(self, name: str = "counting") -> None:
        self.name = name
        self.events: list[tuple[str, object]] = []

    @hookimpl
    def segur_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, version="1.0")

    @hookimpl
    def on_card_read(self, reading):
        self.events.append(("on_card_read", reading))

    @hookimpl
    def on_delivery_settled(self, delivery):
        self.events.append(("on_delivery_settled", delivery))


class Exploding:
    """Raises in an event hook, with a patient identifier in the message."""

    SECRET = "1800175123456"

    @hookimpl
    def segur_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="exploding", version="0.1")

    @hookimpl(tryfirst=True)
    def on_card_read(self, reading):
        raise ValueError(f"cannot handle NIR {self.SECRET}")


class Deciding:
    """Answers a decision hook by raising: decisions propagate."""

    @hookimpl
    def segur_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="deciding", version="0.1")

    @hookimpl
    def segur_ins_oid(self):
        raise RuntimeError("decision failed")
