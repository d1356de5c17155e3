"""Versioned schema of the reference host's SQLite database.

Each migration is applied once, in order, inside a transaction, and recorded in
``PRAGMA user_version``. Add a migration at the end; never edit a released one.
"""

from __future__ import annotations

import sqlite3

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

MIGRATIONS: tuple[str, ...] = (
    # 1: patients, documents, dispensations, consents
    """
    CREATE TABLE patient (
        id TEXT PRIMARY KEY,
        birth_name TEXT NOT NULL,
        first_name TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        ins_matricule TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX patient_traits ON patient (birth_name COLLATE NOCASE, birth_date);
    CREATE INDEX patient_ins ON patient (ins_matricule);
    CREATE TABLE patient_sequence (n INTEGER NOT NULL);
    INSERT INTO patient_sequence VALUES (0);
    CREATE TABLE document (
        id TEXT PRIMARY KEY,
        patient_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        stored_seq INTEGER NOT NULL,
        data TEXT NOT NULL,
        content BLOB NOT NULL
    );
    CREATE INDEX document_patient ON document (patient_id, created_at);
    CREATE TABLE dispensation (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        patient_id TEXT NOT NULL,
        dispensed_at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX dispensation_patient ON dispensation (patient_id, dispensed_at);
    CREATE TABLE consent (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        patient_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX consent_patient ON consent (patient_id, purpose, seq);
    """,
    # 2: the decisions the pharmacist took, kept for the audit of identity vigilance
    """
    CREATE TABLE decision (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        patient_id TEXT,
        answer TEXT NOT NULL,
        decided_at TEXT NOT NULL
    );
    """,
    # 3: received messages with no document to integrate (a photo of a prescription)
    """
    CREATE TABLE message (
        id TEXT PRIMARY KEY,
        received_at TEXT NOT NULL,
        data TEXT NOT NULL,
        content BLOB NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; return the version it was at.

    A database newer than this code is refused rather than silently misread.
    """
    (current,) = connection.execute("PRAGMA user_version").fetchone()
    if current > SCHEMA_VERSION:
        raise RuntimeError(
            f"host database schema version {current} is newer than this segur "
            f"({SCHEMA_VERSION}); upgrade segur-core"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        script = MIGRATIONS[version - 1]
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(str.strip, script.split(";")):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    return current
