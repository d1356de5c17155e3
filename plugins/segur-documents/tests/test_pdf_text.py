"""The N1 PDF body draws what the pharmacist typed: ≤, ≥, accents, symbols come back
from text extraction; a character without a glyph is named, never turned into ``?``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from segur_documents.models import BilanMedication, Entretien, MedicationLine, TextSection
from segur_documents.pdf import bpm_content, entretien_content, render_pdf

pypdf = pytest.importorskip("pypdf")

TYPED = "INR ≤ 2,5 et ≥ 3 ; Œdème, ça, à é è ê ë î ï ô ù û ü ÿ ç, « 5 µg » ½ ± ≠ ≈ → ✓ 20 € …"


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _words(text: str) -> str:
    return " ".join(text.split())


def _entretien(body: str, title: str = "Suivi") -> Entretien:
    return Entretien(dt.date(2024, 5, 6), "AOD", sections=(TextSection(title, body),))


def test_symbols_and_accents_round_trip(context):
    pdf, _ = render_pdf("Compte rendu ≤ ≥", context, entretien_content(_entretien(TYPED)))
    text = _text(pdf)
    assert _words(TYPED) in _words(text)
    assert "Compte rendu ≤ ≥" in text
    assert "?" not in text


def test_every_font_is_embedded(context):
    bilan = BilanMedication(
        dt.date(2024, 5, 6),
        medications=(MedicationLine("KARDÉGIC 75 mg", dosage="1 ≤ j", comment="✓"),),
    )
    pdf, _ = render_pdf("Bilan", context, bpm_content(bilan))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"]  # embedded TrueType
    assert "KARDÉGIC 75 mg" in _text(pdf) and "1 ≤ j" in _text(pdf)


def test_a_character_without_glyph_is_named_not_lost(context):
    pdf, _ = render_pdf("Note", context, entretien_content(_entretien("Merci 😀 中")))
    text = _text(pdf)
    assert "Merci [GRINNING FACE] [CJK UNIFIED IDEOGRAPH-4E2D]" in text
    assert "?" not in text


_words_alphabet = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzéèêàâçôûùïœæÉÈÀÇŒ0123456789≤≥±≠≈µ½€→✓'().,;:%-")
)
_french = st.lists(st.text(_words_alphabet, min_size=1, max_size=18), min_size=1, max_size=12)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(words=_french)
@example(words=["posologie", "≤", "3", "mg/j", "et", "≥", "1", "an,", "Œdème", "réglé"])
def test_typed_french_text_round_trips(context, words):
    typed = " ".join(words)
    pdf, _ = render_pdf("Note", context, entretien_content(_entretien(typed)))
    assert typed in _words(_text(pdf))
