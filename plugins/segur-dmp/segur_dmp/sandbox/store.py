"""The sandbox DMP's state on SQLite: patients (DMP exists/closed), authorisations per
structure, and the registry/repository (documents, metadata versions, statuses)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import attrs

from segur_core.model import hidden

__all__ = ["Registry", "StoredDocument"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS patients (
    patient_id TEXT PRIMARY KEY, present INTEGER NOT NULL, closed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS authorizations (
    patient_id TEXT NOT NULL, structure TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', PRIMARY KEY (patient_id, structure));
CREATE TABLE IF NOT EXISTS documents (
    lid TEXT PRIMARY KEY, unique_id TEXT NOT NULL UNIQUE, patient_id TEXT NOT NULL,
    entry_uuid TEXT NOT NULL, status TEXT NOT NULL, version TEXT NOT NULL,
    owner TEXT NOT NULL, hash TEXT NOT NULL, metadata BLOB NOT NULL, content BLOB NOT NULL,
    submission_uid TEXT NOT NULL, is_signature INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS documents_patient ON documents (patient_id);
"""


@attrs.frozen
class StoredDocument:
    lid: str
    unique_id: str
    patient_id: str = attrs.field(repr=hidden)
    entry_uuid: str
    status: str
    version: str
    owner: str
    hash: str
    metadata: bytes = attrs.field(repr=hidden)
    content: bytes = attrs.field(repr=hidden)
    submission_uid: str
    is_signature: bool


class Registry:
    """Thread-safe SQLite store of one sandbox DMP.

    ``default_present``: whether an unknown patient has a DMP (Mon Espace Santé profiles
    are created automatically, so ``True`` by default).
    """

    def __init__(self, path: Path | str = ":memory:", *, default_present: bool = True):
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL") if str(path) != ":memory:" else None
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self.default_present = default_present

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- patients and authorisations -------------------------------------------------------

    def set_patient(self, patient_id: str, *, present: bool = True, closed: bool = False) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO patients VALUES (?, ?, ?)",
                (patient_id, int(present), int(closed)),
            )

    def patient(self, patient_id: str) -> tuple[bool, bool]:
        """``(present, closed)``."""
        with self._lock:
            row = self._db.execute(
                "SELECT present, closed FROM patients WHERE patient_id = ?", (patient_id,)
            ).fetchone()
        return (bool(row[0]), bool(row[1])) if row else (self.default_present, False)

    def set_authorization(
        self, patient_id: str, structure: str, status: str, reason: str = ""
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO authorizations VALUES (?, ?, ?, ?)",
                (patient_id, structure, status, reason),
            )

    def authorization(self, patient_id: str, structure: str) -> tuple[str, str]:
        with self._lock:
            row = self._db.execute(
                "SELECT status, reason FROM authorizations WHERE patient_id = ? AND structure = ?",
                (patient_id, structure),
            ).fetchone()
        return (row[0], row[1]) if row else ("NON_EXISTE", "")

    # -- documents -------------------------------------------------------------------------

    def find_by_unique_id(self, unique_id: str) -> StoredDocument | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM documents WHERE unique_id = ?", (unique_id,)
            ).fetchone()
        return StoredDocument(*row) if row else None

    def find_by_lid(self, lid: str) -> StoredDocument | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM documents WHERE lid = ? OR entry_uuid = ?", (lid, lid)
            ).fetchone()
        return StoredDocument(*row) if row else None

    def add_all(self, docs: list[StoredDocument]) -> None:
        """Store a submission atomically (all documents or none)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for d in docs:
                    self._db.execute(
                        "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            d.lid,
                            d.unique_id,
                            d.patient_id,
                            d.entry_uuid,
                            d.status,
                            d.version,
                            d.owner,
                            d.hash,
                            d.metadata,
                            d.content,
                            d.submission_uid,
                            int(d.is_signature),
                        ),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def update(self, lid: str, **changes: object) -> None:
        cols = ", ".join(f"{name} = ?" for name in changes)
        with self._lock:
            self._db.execute(f"UPDATE documents SET {cols} WHERE lid = ?", (*changes.values(), lid))

    def documents(self, patient_id: str | None = None) -> list[StoredDocument]:
        with self._lock:
            if patient_id is None:
                rows = self._db.execute("SELECT * FROM documents ORDER BY rowid").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT * FROM documents WHERE patient_id = ? ORDER BY rowid", (patient_id,)
                ).fetchall()
        return [StoredDocument(*row) for row in rows]

    def count(self, *, signatures: bool = False) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM documents WHERE is_signature = ?", (int(signatures),)
            ).fetchone()[0]
