"""The PDF body of the non-structured (N1) documents, drawn with fpdf2.

The page shows the pharmacy, the title, the patient's identity traits (and the INS
datamatrix when the identity is qualified), the content sections, the author and the
date.

Text is set in Inter (SIL OFL, shipped by the ``fontpkg-inter`` package, so a fresh
install needs nothing from the system), embedded and subset: French text, ``≤ ≥ ≠ ≈ ±
µ ½ € œ …``, arrows and check marks are drawn as typed and come back from text
extraction. Inter is a variable font: only its default instance (regular) is embedded,
without the variation and OpenType layout tables (fpdf2 does not shape text; subsetting
them took most of the rendering time); bold is drawn by stroking the same outlines
(instancing a bold weight with fontTools takes about a minute). A character the font
has no glyph for (emoji, most non-Latin scripts) is written as its Unicode name in
brackets (``[GRINNING FACE]``), never as ``?`` nor dropped.

PDF/A: none is claimed. The fonts are now embedded (PDF/A's first requirement), but the
file has no sRGB output intent, no XMP metadata with a ``pdfaid`` part, and it was never
run through a PDF/A validator (veraPDF); fpdf2's ``enforce_compliance`` would add the
first two, the third is what is missing before PDF/A-2B could be stated. The CI-SIS
accepts a plain ``application/pdf`` body.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

import fontpkg
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import TextMode

from segur_documents.cda import PARIS
from segur_documents.models import BilanMedication, DocumentContext, Entretien

__all__ = ["bpm_content", "entretien_content", "render_pdf"]

Draw = Callable[["_Page"], None]

_FONT = "Inter"


# tables fpdf2 does not use without text shaping: the variations (only the default
# instance is drawn) and the OpenType layout; subsetting them took most of the time
_UNUSED_TABLES = ("gvar", "fvar", "avar", "cvar", "HVAR", "MVAR", "STAT", "GSUB", "GPOS", "GDEF")
_font_dir: list[tempfile.TemporaryDirectory] = []


@functools.cache
def _font_path() -> str:
    """Inter's default (regular) instance as a static TrueType file, made once per
    process in a temporary folder removed at exit (fpdf2 reads fonts from files)."""
    font = TTFont(str(fontpkg.path(_FONT)))
    for tag in _UNUSED_TABLES:
        if tag in font:
            del font[tag]
    _font_dir.append(tempfile.TemporaryDirectory(prefix="segur-pdf-font-"))
    path = Path(_font_dir[0].name) / f"{_FONT}-Regular.ttf"
    font.save(path)
    return str(path)


@functools.cache
def _coverage() -> frozenset[int]:
    """The code points the embedded font has a glyph for."""
    return frozenset(TTFont(str(fontpkg.path(_FONT)), lazy=True).getBestCmap())


def _glyph_or_name(char: str) -> str:
    if ord(char) in _coverage() or char in "\n\t":
        return char
    return f"[{unicodedata.name(char, f'U+{ord(char):04X}')}]"


def _text(text: str) -> str:
    """Text as the embedded font can draw it: characters without a glyph become their
    Unicode name in brackets."""
    return "".join(_glyph_or_name(char) for char in text)


class _Page(FPDF):
    def __init__(self, title: str, footer_text: str) -> None:
        super().__init__(format="A4")
        for style in ("", "B"):  # bold: the same outlines, stroked (see set_font)
            self.add_font(_FONT, style, _font_path())
        self._footer_text = footer_text
        self.set_title(_text(title))
        self.set_creator("segur-documents")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 16, 18)

    def set_font(self, family=None, style="", size=0) -> None:  # type: ignore[override]
        super().set_font(family, style, size)
        letters = getattr(style, "style", style) or ""  # a TextEmphasis from tables
        self.text_mode = TextMode.FILL_STROKE if "B" in letters.upper() else TextMode.FILL

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(_FONT, size=8)
        self.cell(0, 6, _text(f"{self._footer_text} - page {self.page_no()}/{{nb}}"), align="C")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font(_FONT, "B", 12)
        self.multi_cell(0, 7, _text(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(_FONT, size=10)

    def paragraph(self, text: str) -> None:
        self.set_font(_FONT, size=10)
        self.multi_cell(0, 5, _text(text or "-"), new_x="LMARGIN", new_y="NEXT")

    def field(self, label: str, value: str) -> None:
        self.set_font(_FONT, "B", 10)
        self.cell(52, 5, _text(label))
        self.set_font(_FONT, size=10)
        self.multi_cell(0, 5, _text(value or "-"), new_x="LMARGIN", new_y="NEXT")


def _datamatrix(ctx: DocumentContext) -> tuple[bytes | None, str | None]:
    """The INS datamatrix as PNG bytes, or why it is not there.

    It comes from segur-ins (the ``datamatrix`` extra of segur-documents): without it,
    or when the symbol cannot be made, the PDF is still made, with a warning.
    """
    if ctx.ins is None:
        return None, None
    try:
        from segur_ins.datamatrix import build_payload, render_png
    except ImportError:
        return None, (
            "datamatrix INS non inséré : segur-ins n'est pas installé "
            "(installer segur-documents[datamatrix])"
        )
    try:
        return render_png(build_payload(ctx.ins, ctx.patient.identity.traits)), None
    except Exception as exc:  # a datamatrix failure must not block the document
        return None, f"datamatrix INS non inséré : {type(exc).__name__}"


def _fmt_date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def render_pdf(title: str, ctx: DocumentContext, draw: Draw) -> tuple[bytes, list[str]]:
    """Render a document's PDF; return its bytes and the warnings (datamatrix skipped)."""
    warnings: list[str] = []
    author = ctx.author
    moment = ctx.effective_time.astimezone(PARIS)
    page = _Page(title, f"{ctx.structure.name} - {author.given_name} {author.family_name}")
    page.alias_nb_pages()
    page.add_page()
    structure = ctx.structure
    page.set_font(_FONT, "B", 11)
    page.multi_cell(120, 5, _text(structure.name), new_x="LMARGIN", new_y="NEXT")
    page.set_font(_FONT, size=9)
    address = ", ".join(
        [
            *structure.address.lines,
            f"{structure.address.postal_code} {structure.address.city}".strip(),
        ]
    )
    page.multi_cell(
        120,
        4,
        _text(
            f"{address}\nFINESS {structure.finess}"
            + (f" - Tél. {structure.phone}" if structure.phone else "")
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    image, warning = _datamatrix(ctx)
    if warning:
        warnings.append(warning)
    if image is not None:
        page.image(io.BytesIO(image), x=167, y=12, w=25, h=25)
        page.set_xy(167, 37)
        page.set_font(_FONT, size=7)
        page.cell(25, 3, "INS", align="C")
        page.set_y(max(page.get_y(), 42))
    page.ln(6)
    page.set_font(_FONT, "B", 15)
    page.multi_cell(0, 8, _text(title), new_x="LMARGIN", new_y="NEXT")

    traits = ctx.patient.identity.traits
    page.heading("Patient")
    page.field("Nom de naissance", traits.birth_name)
    page.field("Prénom(s) de naissance", " ".join(traits.first_names))
    if traits.used_name:
        page.field("Nom utilisé", traits.used_name)
    if traits.used_first_name:
        page.field("Prénom utilisé", traits.used_first_name)
    sex = {"M": "Masculin", "F": "Féminin"}.get(str(traits.sex), "Indéterminé")
    page.field("Sexe", sex)
    birth = traits.birth_date
    page.field("Date de naissance", f"{birth.day:02d}/{birth.month:02d}/{birth.year:04d}")
    page.field("Lieu de naissance (COG)", traits.birth_place or "")
    if ctx.ins is not None:
        page.field("INS", f"{ctx.ins.matricule} ({ctx.ins.oid})")
    else:
        page.field("Identité", "non qualifiée - INS non communiqué")

    draw(page)

    page.heading("Auteur")
    page.field("Pharmacien", f"{author.given_name} {author.family_name}")
    page.field("RPPS", author.rpps)
    page.field("Date", moment.strftime("%d/%m/%Y %H:%M"))
    out = page.output()
    return bytes(out), warnings


def entretien_content(entretien: Entretien) -> Draw:
    """The content of an entretien pharmaceutique report."""

    def draw(page: _Page) -> None:
        page.heading("Entretien pharmaceutique")
        page.field("Date de l'entretien", _fmt_date(entretien.held_on))
        page.field("Thème", entretien.theme)
        if entretien.next_appointment:
            page.field("Prochain entretien", _fmt_date(entretien.next_appointment))
        for section in entretien.sections:
            page.heading(section.title)
            page.paragraph(section.body)

    return draw


def bpm_content(bilan: BilanMedication) -> Draw:
    """The content of a bilan partagé de médication."""

    def draw(page: _Page) -> None:
        page.heading("Bilan partagé de médication")
        page.field("Date du bilan", _fmt_date(bilan.held_on))
        if bilan.attending_physician:
            page.field("Médecin traitant", bilan.attending_physician)
        page.heading("Traitements recensés")
        if not bilan.medications:
            page.paragraph("Aucun traitement recensé.")
        else:
            with page.table(col_widths=(60, 40, 40, 34), text_align="LEFT") as table:
                header = table.row()
                for label in ("Médicament", "Posologie", "Prescripteur", "Commentaire"):
                    header.cell(_text(label))
                for line in bilan.medications:
                    row = table.row()
                    label = line.label + (f" ({line.code})" if line.code else "")
                    for value in (label, line.dosage, line.prescriber, line.comment):
                        row.cell(_text(value or ""))
        for section in bilan.sections:
            page.heading(section.title)
            page.paragraph(section.body)

    return draw
