"""Errors of the MSSanté directory: :mod:`segur_core.errors` subclasses.

Messages name columns and line numbers, never a row's content (names, addresses)."""

from __future__ import annotations

from segur_core.errors import InputError

__all__ = ["DirectoryError", "HeaderError"]


class DirectoryError(InputError):
    """The directory file cannot be imported (unreadable, empty, not an extraction)."""


class HeaderError(DirectoryError):
    """The file's header is not the 31-column "Extraction correspondance MSSanté" one;
    ``column`` is the (1-based) position of the first column that differs."""

    def __init__(self, message: str, *, column: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.column = column
