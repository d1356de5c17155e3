"""The sandbox DP's state in SQLite: dossiers (with the consent or the refusal, and
the NDP assigned when one is opened), the dispensations written into them (unique on
their key), alerts and recalls, and which pharmacy acknowledged which. Thread-safe; a
file survives a sandbox restart."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from segur_dp.codec import alert_to_json, line_from_json, line_to_json
from segur_dp.depth import Category
from segur_dp.model import Alert, HistoryLine

__all__ = ["DPStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dossier (
    nir TEXT NOT NULL, rank INTEGER NOT NULL, consent INTEGER NOT NULL,
    pharmacy TEXT, recorded_at TEXT NOT NULL, PRIMARY KEY (nir, rank));
CREATE TABLE IF NOT EXISTS ndp (
    ndp TEXT PRIMARY KEY, nir TEXT NOT NULL, rank INTEGER NOT NULL, UNIQUE (nir, rank));
CREATE TABLE IF NOT EXISTS line (
    key TEXT PRIMARY KEY, nir TEXT NOT NULL, rank INTEGER NOT NULL, category TEXT NOT NULL,
    dispensed_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert (id TEXT PRIMARY KEY, issued_at TEXT NOT NULL, data TEXT);
CREATE TABLE IF NOT EXISTS ack (
    alert_id TEXT NOT NULL, pharmacy TEXT NOT NULL, by TEXT, at TEXT NOT NULL,
    PRIMARY KEY (alert_id, pharmacy));
"""


class DPStore:
    """The sandbox DP's data (``path`` or in memory)."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        import json

        self._json = json
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        if str(path) != ":memory:":
            Path(path).chmod(0o600)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def consent(self, nir: str, rank: int) -> bool | None:
        """``True`` (a DP), ``False`` (a recorded refusal) or ``None`` (never asked)."""
        with self._lock:
            row = self._db.execute(
                "SELECT consent FROM dossier WHERE nir = ? AND rank = ?", (nir, rank)
            ).fetchone()
        return None if row is None else bool(row[0])

    def set_consent(self, nir: str, rank: int, consent: bool, pharmacy: str | None) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        with self._lock:
            self._db.execute(
                "INSERT INTO dossier VALUES (?, ?, ?, ?, ?) ON CONFLICT (nir, rank) DO UPDATE"
                " SET consent = excluded.consent, pharmacy = excluded.pharmacy,"
                " recorded_at = excluded.recorded_at",
                (nir, rank, int(consent), pharmacy, now),
            )

    def assign_ndp(self, nir: str, rank: int) -> str:
        """The dossier's NDP, assigned on first use: 20 random hexadecimal characters
        (the real format is not public; nothing in it derives from the NIR)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO ndp VALUES (?, ?, ?)",
                (secrets.token_hex(10).upper(), nir, rank),
            )
            row = self._db.execute(
                "SELECT ndp FROM ndp WHERE nir = ? AND rank = ?", (nir, rank)
            ).fetchone()
        return str(row[0])

    def by_ndp(self, ndp: str) -> tuple[str, int] | None:
        """The ``(nir, rank)`` of the dossier with this NDP, or ``None``."""
        with self._lock:
            row = self._db.execute("SELECT nir, rank FROM ndp WHERE ndp = ?", (ndp,)).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def add_line(self, key: str, nir: str, rank: int, line: HistoryLine) -> bool:
        """Write ``line``; ``False`` when ``key`` was written before (nothing changes)."""
        when = line.dispensed_at.astimezone(dt.UTC).isoformat()
        data = self._json.dumps(line_to_json(line))
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO line VALUES (?, ?, ?, ?, ?, ?)",
                (key, nir, rank, line.category.value, when, data),
            )
        return cursor.rowcount == 1

    def lines(
        self, nir: str, rank: int, since: Mapping[Category, dt.datetime]
    ) -> list[HistoryLine]:
        """The lines of each category since its date (UTC), newest first."""
        found: list[HistoryLine] = []
        with self._lock:
            for category, oldest in since.items():
                rows = self._db.execute(
                    "SELECT data FROM line WHERE nir = ? AND rank = ? AND category = ?"
                    " AND dispensed_at >= ? ORDER BY dispensed_at DESC",
                    (nir, rank, category.value, oldest.astimezone(dt.UTC).isoformat()),
                ).fetchall()
                found += [line_from_json(self._json.loads(data)) for (data,) in rows]
        return sorted(found, key=lambda line: line.dispensed_at, reverse=True)

    def count_lines(self, key: str | None = None) -> int:
        with self._lock:
            if key is None:
                return int(self._db.execute("SELECT count(*) FROM line").fetchone()[0])
            sql = "SELECT count(*) FROM line WHERE key = ?"
            return int(self._db.execute(sql, (key,)).fetchone()[0])

    def add_alerts(self, alerts: Iterable[Alert]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO alert VALUES (?, ?, ?)",
                [
                    (a.id, a.issued_at.isoformat(), self._json.dumps(alert_to_json(a)))
                    for a in alerts
                ],
            )

    def pending(self, pharmacy: str) -> list[dict]:
        """The alerts ``pharmacy`` has not acknowledged, oldest first (as JSON objects)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM alert WHERE id NOT IN"
                " (SELECT alert_id FROM ack WHERE pharmacy = ?) ORDER BY issued_at, id",
                (pharmacy,),
            ).fetchall()
        return [self._json.loads(data) for (data,) in rows]

    def acknowledge(self, alert_id: str, pharmacy: str, by: str) -> bool:
        """Record the acknowledgement; ``False`` for an unknown alert."""
        now = dt.datetime.now(dt.UTC).isoformat()
        with self._lock:
            if self._db.execute("SELECT 1 FROM alert WHERE id = ?", (alert_id,)).fetchone() is None:
                return False
            self._db.execute(
                "INSERT OR IGNORE INTO ack VALUES (?, ?, ?, ?)", (alert_id, pharmacy, by, now)
            )
        return True
