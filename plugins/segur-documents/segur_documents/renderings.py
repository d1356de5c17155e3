"""Where the PDF renderings of structured documents are kept: rendered once, when the
document comes into being (validated here, integrated when received), and read by
whoever needs them again (the portability export) instead of rendering each time.

A rendering is a file of the data directory named by the SHA-256 of the document's
bytes (``renderings/ab/ab12….pdf``, 0600): the host contract stores documents, not
their renderings, so any host works unchanged, and a document's rendering can never be
mistaken for another's. A document changed in any byte is another document. A failed
rendering never stops what the document was made for: :func:`keep_rendering` journals
it (the document's id and the kind of failure, nothing about the patient) and the next
reader renders it again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segur_core.files import write_private
from segur_core.model import HealthDocument
from segur_documents.display import Renderer, is_structured

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["FOLDER", "RenderingStore", "keep_rendering", "renderer_of"]

#: The folder of the data directory holding the renderings.
FOLDER = "renderings"


class RenderingStore:
    """PDF renderings by the SHA-256 of the documents' bytes, in ``folder``."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    @classmethod
    def of(cls, runtime: Any) -> RenderingStore:
        """The store of ``runtime``'s data directory."""
        return cls(Path(runtime.data_dir) / FOLDER)

    @staticmethod
    def key(content: bytes) -> str:
        """The key of the document ``content``: the hex SHA-256 of its bytes."""
        return hashlib.sha256(content).hexdigest()

    def path(self, content: bytes, key: str | None = None) -> Path:
        """Where the rendering of the document ``content`` (of key ``key``) is kept."""
        key = key or self.key(content)
        return self.folder / key[:2] / f"{key}.pdf"

    def get(self, content: bytes, key: str | None = None) -> bytes | None:
        """The kept rendering of ``content`` (of key ``key``), or ``None`` (none kept, or
        the store cannot be read: the document is rendered again)."""
        try:
            return self.path(content, key).read_bytes()
        except OSError:
            return None

    def put(self, content: bytes, pdf: bytes) -> Path:
        """Keep ``pdf`` as the rendering of ``content`` (atomically, 0600)."""
        return write_private(self.path(content), pdf)


def renderer_of(runtime: Any) -> Renderer:
    """The runtime's renderer (one per runtime, its stylesheet found from
    ``[documents] kit_path``); :class:`~segur_documents.display.RenderingUnavailable`
    when there is no stylesheet."""

    def make() -> Renderer:
        kit = None
        try:
            kit = runtime.plugin_config("documents").kit_path
        except Exception:  # documents not configured: the default places only
            kit = None
        return Renderer.find(kit)

    return runtime.service("documents.renderer", make)  # type: ignore[no-any-return]


def keep_rendering(
    runtime: Runtime, document: HealthDocument, store: RenderingStore | None = None
) -> bytes | None:
    """Render a structured ``document`` and keep its rendering, unless it is kept
    already; ``None`` for a document that needs none (its own PDF) or whose rendering
    failed (journaled; the next caller tries again). Never raises for a rendering: the
    caller's work goes on."""
    if document.media_type != "text/xml" or not is_structured(document.content):
        return None
    store = store or RenderingStore.of(runtime)
    kept = store.get(document.content)
    if kept is not None:
        return kept
    try:
        pdf = renderer_of(runtime).pdf(document.content)
    except Exception as exc:  # whatever it is, the document's own work goes on
        _failed(runtime, document, "render", exc)
        return None
    try:
        store.put(document.content, pdf)
    except OSError as exc:  # rendered all the same: the caller has it, a reader will redo it
        _failed(runtime, document, "keep", exc)
    return pdf


def _failed(runtime: Any, document: HealthDocument, step: str, exc: BaseException) -> None:
    """Journal a failed rendering: which document, which step, which kind of failure;
    nothing about the patient, nothing of the document's content."""
    runtime.journal.record(
        "documents.rendering",
        outcome="failed",
        details={
            "document": document.id,
            "type": document.type_code,
            "step": step,
            "reason": type(exc).__name__,
        },
    )
