"""The MSSanté directory: the open-data "Extraction correspondance MSSanté" imported into
SQLite with full-text search, and updated incrementally (the address is the key).

Pure modules: :mod:`.extraction` (the file's columns, rows, reading), :mod:`.query`
(user text to a safe FTS5 expression), :mod:`.store` (the database, import, search).
"""

from __future__ import annotations

from segur_mssante.directory.errors import DirectoryError, HeaderError
from segur_mssante.directory.extraction import (
    COLUMNS,
    BadRow,
    Entry,
    check_header,
    parse_row,
    read_extraction,
)
from segur_mssante.directory.query import match_expression
from segur_mssante.directory.store import FILENAME, Directory, ImportReport

__all__ = [
    "COLUMNS",
    "FILENAME",
    "BadRow",
    "Directory",
    "DirectoryError",
    "Entry",
    "HeaderError",
    "ImportReport",
    "check_header",
    "match_expression",
    "parse_row",
    "read_extraction",
]
