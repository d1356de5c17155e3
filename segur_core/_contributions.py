"""The attrs-based contributions a plugin returns from its hooks (doctor checks, demo
steps, recipients, export sections).

They live apart from :mod:`segur_core.plugin`, which re-exports them lazily, so that a
plugin's entry-point module can import ``PluginInfo`` without importing attrs: ``segur
plugins`` only needs the plugins' descriptions (see "CLI start-up" in docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from segur_core.plugin import DoctorResult
    from segur_core.runtime import Runtime

__all__ = ["DemoContext", "DemoStep", "DoctorCheck", "ExportSection", "Recipient"]


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
        from segur_core.files import write_private  # 0600: artefacts hold patient data

        data = content.encode("utf-8") if isinstance(content, str) else content
        return write_private(self.out_dir / name, data)


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
    function producing its files as ``(relative path, bytes)`` pairs.

    ``schema`` is the JSON Schema every ``.JSN``/``.json`` file of the section follows:
    the export checks the files against it and the data dictionary is generated from it
    (``title``/``description`` in English, ``x-title-fr``/``x-description-fr`` in
    French; ``null`` means "not filled in", ``false`` or an empty list "negative").
    """

    name: str
    description: str
    files: Callable[[], Iterator[tuple[str, bytes]]]
    schema: dict[str, Any] | None = None
