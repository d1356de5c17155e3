"""What a plugin hands to the core: its description and its contributions.

These are the return types of the contribution hooks in :mod:`segur_core.hookspecs`.

Importing this module does not import attrs, so that loading every plugin for ``segur
plugins`` stays cheap (docs/performance.md, "CLI start-up"): ``PluginInfo`` is a small
frozen class whose ``config_class`` may be a lazy ``"module:Class"`` reference, and the
attrs-based contributions (``DemoStep``, ``DoctorCheck``...) are defined in
:mod:`segur_core._contributions` and loaded on first access to their name here.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from segur_core.lazy import lazy_exports

if TYPE_CHECKING:
    from segur_core._contributions import (
        DemoContext,
        DemoStep,
        DoctorCheck,
        ExportSection,
        Recipient,
    )

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

__getattr__, __dir__ = lazy_exports(
    __name__,
    dict.fromkeys(
        ("DemoContext", "DemoStep", "DoctorCheck", "ExportSection", "Recipient"),
        "segur_core._contributions",
    ),
    globals(),
)


def distribution_version(dist_name: str, *, default: str = "0.0.0") -> str:
    """The installed version of the distribution ``dist_name`` (for ``PluginInfo.version``);
    ``default`` when it is not installed, as when a plugin runs from a source tree."""
    from importlib.metadata import PackageNotFoundError, version  # only when asked

    try:
        return version(dist_name)
    except PackageNotFoundError:
        return default


def resolve_reference(reference: str) -> Any:
    """The object named by ``"package.module:Name"`` (``Name`` may be dotted), imported now.

    Raises ``ImportError`` or ``AttributeError`` when it does not exist."""
    import importlib

    module_name, _, qualname = reference.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class PluginInfo:
    """A plugin's description, returned by ``segur_plugin_info``.

    ``requires_core`` is a PEP 440 specifier (``>=0.1,<0.2``) the core version must
    satisfy. ``config_class`` is the attrs class for the plugin's ``[name]`` table in
    ``segur.toml`` (every field needs a default so the demo runs without a file), or
    better a reference to it, ``"segur_example.config:ExampleConfig"``: the core imports
    it only when it structures the configuration, so that listing the plugins does not
    import the config module and attrs. Reading ``config_class`` gives the class (imported
    then, or ``PluginLoadError`` when the reference is wrong); ``config_ref`` gives what
    the plugin passed.

    Frozen, compared and hashed by value, like the attrs classes of the other
    contributions (written by hand so that importing it does not import attrs).
    """

    __slots__ = (
        "_config_class",
        "capabilities",
        "config_ref",
        "name",
        "requires_core",
        "summary",
        "version",
    )
    _FIELDS = ("name", "version", "summary", "capabilities", "requires_core", "config_ref")

    name: str
    version: str
    summary: str
    capabilities: tuple[str, ...]
    requires_core: str
    config_ref: type | str | None
    _config_class: type | None

    def __init__(
        self,
        name: str,
        version: str,
        summary: str = "",
        capabilities: Any = (),
        requires_core: str = ">=0.1",
        config_class: type | str | None = None,
    ) -> None:
        if isinstance(config_class, str):
            module_name, sep, qualname = config_class.partition(":")
            if not (sep and module_name and qualname):
                raise ValueError(
                    f"config_class reference {config_class!r} is not 'package.module:Class'"
                )
        elif config_class is not None and not isinstance(config_class, type):
            raise TypeError(
                f"config_class must be a class or a 'module:Class' string, "
                f"not {type(config_class).__name__}"
            )
        setattr_ = object.__setattr__
        setattr_(self, "name", name)
        setattr_(self, "version", version)
        setattr_(self, "summary", summary)
        setattr_(self, "capabilities", tuple(capabilities))
        setattr_(self, "requires_core", requires_core)
        setattr_(self, "config_ref", config_class)
        setattr_(self, "_config_class", config_class if isinstance(config_class, type) else None)

    @property
    def config_class(self) -> type | None:
        """The config class, imported on first access when given as a reference."""
        if self._config_class is None and isinstance(self.config_ref, str):
            from segur_core.errors import PluginLoadError

            try:
                cls = resolve_reference(self.config_ref)
            except (ImportError, AttributeError) as exc:
                raise PluginLoadError(
                    f"config_class {self.config_ref!r} cannot be imported: {exc}",
                    plugin=self.name,
                ) from exc
            if not isinstance(cls, type):
                raise PluginLoadError(
                    f"config_class {self.config_ref!r} is not a class", plugin=self.name
                )
            object.__setattr__(self, "_config_class", cls)
        return self._config_class

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._FIELDS)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"PluginInfo is frozen; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"PluginInfo is frozen; cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{f if f != 'config_ref' else 'config_class'}={getattr(self, f)!r}"
            for f in self._FIELDS
        )
        return f"PluginInfo({fields})"


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
