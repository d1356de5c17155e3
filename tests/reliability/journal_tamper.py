"""Tampering with an audit journal the way an attacker with the file would: SQL run
straight on the database, the append-only triggers dropped first."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["tamper"]


def tamper(path: Path, *statements: tuple[str, tuple]) -> None:
    """Run ``(sql, params)`` statements straight on the journal database ``path``."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS records_no_update")
    conn.execute("DROP TRIGGER IF EXISTS records_no_delete")
    for sql, params in statements:
        conn.execute(sql, params)
    conn.close()
