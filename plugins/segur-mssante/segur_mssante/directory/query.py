"""What the user types, turned into an FTS5 MATCH expression that cannot be a syntax error.

User text is never FTS5 syntax: it is cut into words (letters and digits), each word is
quoted (so ``AND``, ``NEAR``, ``-``, ``*``, ``:`` and quotes are plain text) and, for
type-ahead, made a prefix when it has at least two characters. All the words must match.

:func:`fold` applies the index's rules (``unicode61 remove_diacritics 2``: case and
accents ignored) in Python, to look a word up in the index's list of terms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

__all__ = ["fold", "match_expression", "query_words"]

_WORD = re.compile(r"[^\W_]+")
#: Words kept from one query (a pasted paragraph is not a search).
MAX_WORDS = 12
#: Shorter words match whole words only: a one-letter prefix matches half the directory.
MIN_PREFIX = 2


def query_words(text: str) -> list[str]:
    """The words searched for in ``text`` (at most :data:`MAX_WORDS`)."""
    return _WORD.findall(text)[:MAX_WORDS]


def match_expression(text: str | Sequence[str]) -> str | None:
    """The MATCH expression for ``text`` (or its words), or None when it holds no word."""
    words = query_words(text) if isinstance(text, str) else list(text)
    if not words:
        return None
    return " ".join(f'"{word}"*' if len(word) >= MIN_PREFIX else f'"{word}"' for word in words)


def _slow_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


#: Latin letters with their accents removed, for the fast path of :func:`fold`.
_LATIN = {code: _slow_fold(chr(code)) for code in range(0xC0, 0x250)}


def fold(text: str) -> str:
    """``text`` as the index sees it: accents removed, case folded."""
    folded = text.translate(_LATIN).casefold()
    return folded if folded.isascii() else _slow_fold(text)
