"""Errors of the portability plugin: every one is a :mod:`segur_core.errors` subclass.

Messages never hold a patient identifier; ``hint`` tells the user what to do.
"""

from __future__ import annotations

from segur_core.errors import InputError, SegurError

__all__ = ["ArchiveError", "ExportError", "ImportRefused"]


class ExportError(SegurError):
    """An export cannot be made (the output folder is unusable, a section's file does
    not follow its schema, a patient asked for is unknown)."""


class ArchiveError(InputError):
    """A portability archive cannot be read: not a ZIP, no ``MANIFEST.XML``, a manifest
    that is not one (hostile or corrupt input ends here, typed)."""


class ImportRefused(SegurError):
    """An archive is not imported: it does not verify (altered, incomplete) or the
    target host already holds its patients."""
