"""Per-document DMP status, in the plugin's own SQLite file in the data directory: what
the host and ``segur dmp status`` show the pharmacist (queued, in the DMP, failed...)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import attrs

from segur_core.files import private_file

__all__ = ["DocumentStatus", "StatusStore"]

QUEUED, IN_DMP, FAILED, MASKED, DELETED = "queued", "in-dmp", "failed", "masked", "deleted"


@attrs.frozen
class DocumentStatus:
    """Where one document stands with the DMP."""

    document_id: str
    patient_id: str
    state: str
    delivery_id: int | None = None
    detail: str | None = None
    updated_at: str = ""


class StatusStore:
    """``dmp-status.sqlite``: one row per document this pharmacy sent to the DMP."""

    def __init__(self, path: Path) -> None:
        private_file(path)  # 0600, and so its -wal and -shm: patient ids
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: durable across process crashes (WAL), not across a power cut; the
        # outbox (the source of truth for deliveries) keeps full durability.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS status (document_id TEXT PRIMARY KEY, patient_id TEXT"
            " NOT NULL, state TEXT NOT NULL, delivery_id INTEGER, detail TEXT,"
            " updated_at TEXT NOT NULL)"
        )
        self._lock = threading.Lock()

    def set(
        self,
        document_id: str,
        patient_id: str,
        state: str,
        *,
        delivery_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._lock:
            self._db.execute(
                "INSERT INTO status VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(document_id) DO UPDATE"
                " SET state = excluded.state, detail = excluded.detail, updated_at ="
                " excluded.updated_at, delivery_id = COALESCE(excluded.delivery_id, delivery_id)",
                (document_id, patient_id, state, delivery_id, detail, now),
            )

    def by_delivery(self, delivery_id: int) -> DocumentStatus | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM status WHERE delivery_id = ?", (delivery_id,)
            ).fetchone()
        return DocumentStatus(*row) if row else None

    def get(self, document_id: str) -> DocumentStatus | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM status WHERE document_id = ?", (document_id,)
            ).fetchone()
        return DocumentStatus(*row) if row else None

    def for_patient(self, patient_id: str) -> list[DocumentStatus]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM status WHERE patient_id = ? ORDER BY updated_at", (patient_id,)
            ).fetchall()
        return [DocumentStatus(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
