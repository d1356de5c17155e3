"""The PDF/A rendering of a CDA document, as the ANS shows it.

The CI-SIS kit's display stylesheet (``FeuilleDeStyle/CDA-FO.xsl``) turns the CDA into
XHTML; WeasyPrint lays that page out as PDF/A-1b (PDF/A-1: what MSSanté asks for the
rendering that travels with a CDA, ECO.2.1.5; PDF/A for the portability archive). The
stylesheet is XSLT 1.0 and is run by lxml (libxslt): under Saxon the same file writes
XSL-FO for Apache FOP, a Java program, instead of the page.

The CDA is untrusted: it is parsed hardened (:func:`segur_core.safexml.parse_xml`); the
stylesheet may read its own localisation files and nothing on the network; the page is
laid out without scripts (the stylesheet is asked for none, and any left are removed:
WeasyPrint runs none anyway) and without fetching anything but the ``data:`` URLs a
document embeds (a remote image, a stylesheet link or a local file is refused).
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from lxml import etree

from segur_core.cdaheader import MAX_CDA_BYTES
from segur_core.errors import DocumentError
from segur_core.reference import CISIS_STYLESHEETS, find_reference
from segur_core.safexml import parse_xml

__all__ = [
    "PDF_VARIANT",
    "STYLESHEET",
    "Renderer",
    "RenderingError",
    "RenderingUnavailable",
    "find_stylesheet",
    "is_structured",
]

#: The display stylesheet of the kit's ``FeuilleDeStyle`` folder.
STYLESHEET = "CDA-FO.xsl"
#: The PDF/A part and conformance level of every rendering.
PDF_VARIANT = "pdf/a-1b"
_XHTML = "{http://www.w3.org/1999/xhtml}"
_PARAMS = {"useJavascript": "'false'"}


class RenderingError(DocumentError):
    """A document could not be rendered (a body the stylesheet or the layout refuses)."""


class RenderingUnavailable(RenderingError):
    """No document can be rendered here: the display stylesheet is missing."""


def is_structured(content: bytes) -> bool:
    """Whether ``content`` looks like a CDA with a structured body: one that carries no
    PDF of its own and needs a rendering."""
    return b"ClinicalDocument" in content[:4096] and b"nonXMLBody" not in content


def find_stylesheet(kit: str | Path | None = None) -> Path | None:
    """The display stylesheet: ``$SEGUR_CISIS_STYLESHEETS``, a data package,
    ``../shared/cisis/FeuilleDeStyle`` beside a source checkout, else the
    ``FeuilleDeStyle`` folder inside or beside the kit folder ``kit`` (the upstream
    layout); ``None`` when none holds it."""
    found = find_reference(CISIS_STYLESHEETS)
    if found is not None:
        return found / STYLESHEET
    if kit is not None:
        for folder in (Path(kit) / "FeuilleDeStyle", Path(kit).parent / "FeuilleDeStyle"):
            if (folder / STYLESHEET).is_file():
                return folder / STYLESHEET
    return None


class Renderer:
    """Renders CDA documents with one stylesheet, compiled on first use (0.1 s) and
    shared by the threads of the process (one rendering at a time)."""

    def __init__(self, stylesheet: Path) -> None:
        self.stylesheet = Path(stylesheet)
        self._lock = threading.Lock()
        self._transform: etree.XSLT | None = None

    @classmethod
    def find(cls, kit: str | Path | None = None) -> Renderer:
        """The renderer of :func:`find_stylesheet`; :class:`RenderingUnavailable` when
        there is no stylesheet."""
        stylesheet = find_stylesheet(kit)
        if stylesheet is None:
            raise RenderingUnavailable(
                "no display stylesheet: documents cannot be rendered as PDF",
                hint=f"set {CISIS_STYLESHEETS.env} to the kit's FeuilleDeStyle folder",
            )
        return cls(stylesheet)

    def html(self, cda: bytes) -> bytes:
        """The page of ``cda`` (XHTML, without scripts).

        Raises :class:`~segur_core.errors.UnsafeXMLError` for a hostile or malformed
        document and :class:`RenderingError` when the stylesheet fails on it."""
        root = parse_xml(cda, max_bytes=MAX_CDA_BYTES)
        with self._lock:
            transform = self._compiled()
            try:
                page = transform(root.getroottree(), **_PARAMS)
            except etree.XSLTError as exc:
                raise RenderingError(
                    f"the display stylesheet failed: {type(exc).__name__}"
                ) from None
        top = page.getroot()
        if top is None:
            raise RenderingError("the display stylesheet gave no page for this document")
        for script in top.iter(f"{_XHTML}script", "script"):
            script.getparent().remove(script)
        for title in top.iter(f"{_XHTML}title", "title"):
            text = " ".join(" ".join(title.itertext()).split())
            for child in list(title):
                title.remove(child)
            title.text = text
        return etree.tostring(top, encoding="utf-8")

    def pdf(self, cda: bytes) -> bytes:
        """The PDF/A rendering of ``cda`` (see the module docstring).

        Raises :class:`~segur_core.errors.InputError` subclasses: an unsafe or malformed
        document, or :class:`RenderingError`."""
        return self.layout(self.html(cda))

    def layout(self, page: bytes) -> bytes:
        """The PDF/A of an XHTML ``page``, reading nothing but its ``data:`` URLs."""
        try:
            import weasyprint

            document = weasyprint.HTML(
                string=page.decode("utf-8"), base_url=None, url_fetcher=_fetcher()
            )
            with self._lock:
                return bytes(document.write_pdf(pdf_variant=PDF_VARIANT))
        except Exception as exc:  # the layout engine's own failures, in its words
            raise RenderingError(f"the PDF layout failed: {type(exc).__name__}") from None

    def _compiled(self) -> etree.XSLT:
        if self._transform is None:
            try:
                parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
                sheet = etree.parse(str(self.stylesheet), parser)
                access = etree.XSLTAccessControl(
                    read_file=True,  # its cda_l10n.xml and cda_narrativeblock.xml
                    write_file=False,
                    create_dir=False,
                    read_network=False,
                    write_network=False,
                )
                self._transform = etree.XSLT(sheet, access_control=access)
            except (OSError, etree.LxmlError) as exc:
                raise RenderingError(
                    f"the display stylesheet {self.stylesheet.name} cannot be read: "
                    f"{type(exc).__name__}",
                    hint=f"check {self.stylesheet.parent}",
                ) from None
        return self._transform


def _fetcher() -> Any:
    """WeasyPrint's fetcher limited to the ``data:`` URLs a document embeds."""
    return _embedded_only()(timeout=1, allowed_protocols=("data",), allow_redirects=False)


@functools.cache
def _embedded_only() -> type:
    from weasyprint.urls import URLFetcher

    class EmbeddedOnly(URLFetcher):
        """Refuses every URL but ``data:`` (before any handler sees it)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.lower().startswith("data:"):
                raise ValueError("only data embedded in the document is read")
            return super().fetch(url, headers)

    return EmbeddedOnly
