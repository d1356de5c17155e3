"""What a plugin hands to the core: its description and its contributions.

These are the return types of the contribution hooks in :mod:`segur_core.hookspecs`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = [
    "DemoContext",
    "DemoStep",
    "DoctorCheck",
    "DoctorResult",
    "ExportSection",
    "OutboxItem",
    "PluginInfo",
    "Recipient",
    "Sandbox",
    "Sender",
    "distribution_version",
]


def distribution_version(dist_name: str, *, default: str = "0.0.0") -> str:
    """The installed version of the distribution ``dist_name`` (for ``PluginInfo.version``);
    ``default`` when it is not installed, as when a plugin runs from a source tree."""
    from importlib.metadata import PackageNotFoundError, version  # only when asked

    try:
        return version(dist_name)
    except PackageNotFoundError:
        return default


@attrs.frozen
class PluginInfo:
    """A plugin's description, returned by ``segur_plugin_info``.

    ``requires_core`` is a PEP 440 specifier (``>=0.1,<0.2``) the core version must
    satisfy. ``config_class`` is an attrs class for the plugin's ``[name]`` table in
    ``segur.toml``; every field needs a default so the demo runs without a file.
    """

    name: str
    version: str
    summary: str = ""
    capabilities: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    requires_core: str = ">=0.1"
    config_class: type | None = None


class OutboxItem(Protocol):
    """The view of an outbox item a sender receives."""

    id: int
    kind: str
    key: str
    payload: bytes
    attempts: int
    patient_id: str | None


@runtime_checkable
class Sender(Protocol):
    """Delivers one outbox item. Return to mark it delivered (the return value, a short
    string, is kept as the item's ``result``); raise ``TransientDeliveryError`` to retry
    later or ``PermanentDeliveryError`` to dead-letter it. It must honour ``item.key``
    so that a repeated delivery is harmless."""

    def __call__(self, item: OutboxItem) -> str | None: ...


class Sandbox(Protocol):
    """A local peer of a national service, run on loopback.

    ``start()`` returns once it accepts connections; ``url`` is then its base URL;
    ``stop()`` shuts it down. ``configure(config)`` returns the plugin config pointed at
    this sandbox (endpoints, CA bundle, client certificate).
    """

    name: str

    @property
    def url(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class DoctorResult(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    SKIPPED = "skipped"


@attrs.frozen
class DoctorCheck:
    """One check of ``segur doctor``: ``run()`` returns ``(result, message)``."""

    name: str
    run: Callable[[], tuple[DoctorResult, str]]


@attrs.define
class DemoContext:
    """Shared state of one ``segur demo`` run; steps read and add to it.

    ``data`` holds what a step leaves for later ones (``patient``, ``documents``...);
    ``out_dir`` is where artefacts go; ``record(...)`` adds a line to the timeline.
    """

    runtime: Runtime
    out_dir: Any  # pathlib.Path
    data: dict[str, Any] = attrs.Factory(dict)
    timeline: list[dict[str, Any]] = attrs.Factory(list)
    on_record: Callable[[dict[str, Any]], None] | None = None

    def record(self, actor: str, message: str, **details: Any) -> None:
        """Add an entry to the demo timeline (no patient identifiers in ``message``)."""
        entry = {"actor": actor, "message": message, **details}
        self.timeline.append(entry)
        if self.on_record is not None:
            self.on_record(entry)

    def artefact(self, name: str, content: bytes | str) -> Any:
        """Write an artefact into the output folder and return its path."""
        path = self.out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path


@attrs.frozen
class DemoStep:
    """A step of the counter scenario. ``order`` sorts steps across plugins (100: card
    reading, 200: identity, 300: prescription, 400: documents, 500: sharing, 600: inbox,
    700: history, 800: export). ``run(context)`` does the work and records it."""

    order: int
    title: str
    run: Callable[[DemoContext], None]
    plugin: str = ""


@attrs.frozen
class Recipient:
    """A proposed recipient of a document: ``channel`` (``dmp``, ``mssante``) and address."""

    channel: str
    address: str
    label: str = ""
    default: bool = False


@attrs.frozen
class ExportSection:
    """A section of the portability export: a name, a description of its format, and a
    function producing its files as ``(relative path, bytes)`` pairs."""

    name: str
    description: str
    files: Callable[[], Iterator[tuple[str, bytes]]]
