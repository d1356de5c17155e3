"""The XDS DocumentEntries of the export's documents, kept when each document comes into
being (validated here, integrated when received) instead of derived at every export.

An export puts every CDA document in an IHE XDM archive, whose ``METADATA.XML`` needs
the document's DocumentEntry: :func:`segur_core.xds.entry_from_cda` reads it from the
CDA header, about a third of a massive export's work (a hardened parse, some seventy
header look-ups). The entry is a function of the document's bytes alone, so it is derived
once, when the document is validated or received (:func:`keep_entry`, from this
plugin's event hooks), and an export reads it back. A document with no kept entry (one
the host got some other way, or kept before this store existed) is derived during the
export as before; nothing is written then.

An entry is a file of the data directory named by the SHA-256 of the document's bytes
(``xds-entries/ab/ab12….json``, 0600), as the PDF renderings are. It is used only for
those very bytes (its size and SHA-1 are checked again), and only if it was derived by
the current rules (:data:`segur_core.xds.ENTRY_RULES`): anything else, an unreadable or
damaged file included, is derived again. Its ``entryUUID`` is drawn afresh at each use.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cattrs
from cattrs.errors import BaseValidationError

from segur_core import convert
from segur_core.errors import InputError
from segur_core.files import write_private
from segur_core.model import HealthDocument
from segur_core.xds import ENTRY_RULES, DocumentEntry, entry_from_cda

__all__ = ["FOLDER", "EntryStore", "ExportEntries", "is_cda", "keep_entry"]

#: The folder of the data directory holding the kept entries.
FOLDER = "xds-entries"

#: Reads a kept entry back: a DocumentEntry holds only text, numbers and nested values,
#: and a refusal needs no detail (the entry is derived again), so cattrs' plain mode is
#: enough, and a third faster than :mod:`segur_core.convert`'s.
_READ = cattrs.Converter(detailed_validation=False).get_structure_hook(DocumentEntry)


def is_cda(document: HealthDocument) -> bool:
    """Whether ``document`` is a CDA document (the export's XDM part is for those)."""
    return document.media_type == "text/xml" and b"ClinicalDocument" in document.content[:4096]


class EntryStore:
    """DocumentEntries by the SHA-256 (hex) of their documents' bytes, in ``folder``."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    @classmethod
    def of(cls, runtime: Any) -> EntryStore:
        """The store of ``runtime``'s data directory."""
        return cls(Path(runtime.data_dir) / FOLDER)

    def path(self, key: str) -> Path:
        """Where the entry of the document of SHA-256 ``key`` is kept."""
        return self.folder / key[:2] / f"{key}.json"

    @staticmethod
    def encode(entry: DocumentEntry) -> bytes:
        """The kept form of ``entry``: the rules it was derived by, and the entry without
        its ``entryUUID`` (drawn afresh at each use)."""
        data = convert.unstructure(entry)
        del data["entry_uuid"]
        return json.dumps({"rules": ENTRY_RULES, "entry": data}, separators=(",", ":")).encode()

    def get(self, content: bytes, key: str) -> DocumentEntry | None:
        """The entry kept for the document ``content`` of SHA-256 ``key``, or ``None``:
        none kept, unreadable, derived by other rules, not about these bytes, or not
        exactly the data of the entry it reads as (the converter would fill a damaged
        field with its default)."""
        try:
            kept = json.loads(self.path(key).read_bytes())
            if kept["rules"] != ENTRY_RULES:
                return None
            data = kept["entry"]
            entry = _READ(data, DocumentEntry)
        except (OSError, ValueError, TypeError, KeyError, BaseValidationError):
            return None
        if entry.size != len(content) or entry.hash != hashlib.sha1(content).hexdigest():
            return None
        faithful = convert.unstructure(entry)
        del faithful["entry_uuid"]
        return entry if faithful == data else None

    def put(self, key: str, entry: DocumentEntry) -> Path:
        """Keep ``entry`` for the document of SHA-256 ``key`` (atomically, 0600)."""
        return write_private(self.path(key), self.encode(entry))


def keep_entry(runtime: Any, document: HealthDocument) -> DocumentEntry | None:
    """Derive the DocumentEntry of a CDA ``document`` and keep it, unless one is kept
    already; ``None`` when the document is not a CDA whose header gives one (the export
    puts it in ``OTHER/``) or the store cannot be written (the export derives it then).
    Never raises: the document's own work goes on."""
    if not is_cda(document):
        return None
    content = document.content
    store = EntryStore.of(runtime)
    key = hashlib.sha256(content).hexdigest()
    entry = store.get(content, key)
    if entry is not None:
        return entry
    try:
        entry = entry_from_cda(content, patient_id="")
    except InputError:
        return None
    try:
        store.put(key, entry)
    except OSError:
        return entry  # not kept: an export derives it again
    return entry


class ExportEntries:
    """The kept entries for one export: read by the documents' SHA-256, counted."""

    def __init__(self, runtime: Any) -> None:
        self.store = EntryStore.of(runtime)
        self.kept = self.derived = 0

    def of(
        self, documents: Sequence[HealthDocument], digests: Sequence[str]
    ) -> Mapping[str, DocumentEntry]:
        """The kept entries of the CDA ``documents`` (of SHA-256 ``digests``), by digest;
        the others are derived while their archive is built."""
        found: dict[str, DocumentEntry] = {}
        for document, key in zip(documents, digests, strict=True):
            if not is_cda(document):
                continue
            entry = self.store.get(document.content, key)
            if entry is None:
                self.derived += 1
            else:
                self.kept += 1
                found[key] = entry
        return found

    def counts(self) -> dict[str, int]:
        """What this export did, for its journal record."""
        return {"entries_kept": self.kept, "entries_derived": self.derived}
