"""Tampering with an audit journal the way an attacker with the file would: SQL run
straight on the database, the append-only triggers dropped first."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from segur_core.journal.chain import canonical_details

if TYPE_CHECKING:
    from .stores import Store

__all__ = ["swap", "tamper", "tamper_store"]


def tamper(path: Path, *statements: tuple[str, tuple]) -> None:
    """Run ``(sql, params)`` statements straight on the journal database ``path``."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS records_no_update")
    conn.execute("DROP TRIGGER IF EXISTS records_no_delete")
    for sql, params in statements:
        conn.execute(sql, params)
    conn.close()


def tamper_store(store: Store, *statements: tuple[str, tuple]) -> None:
    """Run ``(sql, params)`` statements, written for the SQLite journal (tables
    ``records`` and ``head``, ``?`` marks), straight on ``store``'s journal: on PostgreSQL
    as the tables' owner, who may switch the append-only trigger off but, row-level
    security being forced on the owner too, reaches only the store's pharmacy."""
    if store.url is None:
        tamper(store.directory / "journal.sqlite", *statements)
        return
    import psycopg

    assert store.owner_url is not None
    with psycopg.connect(store.owner_url) as conn:
        conn.execute("SELECT set_config('app.tenant', %s, true)", (store.tenant,))
        conn.execute("ALTER TABLE journal_records DISABLE TRIGGER journal_records_no_change")
        for sql, params in statements:
            sql = re.sub(r"\brecords\b", "journal_records", sql)
            sql = re.sub(r"\bhead\b", "journal_heads", sql).replace("?", "%s")
            conn.execute(sql.encode(), params)
        conn.execute("ALTER TABLE journal_records ENABLE TRIGGER journal_records_no_change")


def swap(store: Store, a: int, b: int) -> None:
    """Exchange the content of records ``a`` and ``b`` of ``store``'s journal, keeping
    their numbers."""
    columns = ("at", "actor", "patient_id", "action", "service", "outcome", "details",
               "prev_hash", "hash")  # fmt: skip
    with store.journal(pseudonym_key=b"k" * 32) as journal:
        rows = {r.seq: r for r in journal.records() if r.seq in (a, b)}
    values = {
        seq: (r.at.isoformat(), r.actor, r.patient_id, r.action, r.service, r.outcome,
              canonical_details(r.details), r.prev_hash, r.hash)
        for seq, r in rows.items()
    }  # fmt: skip
    sql = f"UPDATE records SET {', '.join(f'{c} = ?' for c in columns)} WHERE seq = ?"
    tamper_store(store, (sql, (*values[b], a)), (sql, (*values[a], b)))
