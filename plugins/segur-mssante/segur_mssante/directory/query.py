"""What the user types, turned into an FTS5 MATCH expression that cannot be a syntax error.

User text is never FTS5 syntax: it is cut into words (letters and digits), each word is
quoted (so ``AND``, ``NEAR``, ``-``, ``*``, ``:`` and quotes are plain text) and, for
type-ahead, made a prefix when it has at least two characters. All the words must match.
"""

from __future__ import annotations

import re

__all__ = ["match_expression"]

_WORD = re.compile(r"[^\W_]+")
#: Words kept from one query (a pasted paragraph is not a search).
MAX_WORDS = 12
#: Shorter words match whole words only: a one-letter prefix matches half the directory.
MIN_PREFIX = 2


def match_expression(text: str) -> str | None:
    """The MATCH expression for ``text``, or None when it holds no word to search."""
    words = _WORD.findall(text)[:MAX_WORDS]
    if not words:
        return None
    return " ".join(f'"{word}"*' if len(word) >= MIN_PREFIX else f'"{word}"' for word in words)
