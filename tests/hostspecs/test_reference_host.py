"""The reference host's database: versioned migrations and WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hostspecs.conformance import samples
from hostspecs.reference import SCHEMA_VERSION, ReferenceHost
from hostspecs.reference.schema import MIGRATIONS, migrate


def test_a_new_database_is_at_the_latest_version_in_wal_mode(tmp_path: Path) -> None:
    with ReferenceHost(tmp_path / "host.sqlite"):
        pass
    db = sqlite3.connect(tmp_path / "host.sqlite")
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_an_old_database_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "host.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    db.close()
    with ReferenceHost(path) as host:
        saved = host.host_save_patient(samples.patient())
    with ReferenceHost(path) as host:
        assert host.host_get_patient(saved.id) == saved
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "host.sqlite", isolation_level=None)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer than this segur"):
        migrate(db)


def test_a_failed_migration_leaves_the_database_unchanged(tmp_path: Path, monkeypatch) -> None:
    from hostspecs.reference import schema

    monkeypatch.setattr(schema, "MIGRATIONS", (*MIGRATIONS, "CREATE TABLE x (a); BROKEN SQL"))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(MIGRATIONS) + 1)
    db = sqlite3.connect(tmp_path / "host.sqlite", isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(db)
    assert db.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'x'").fetchall()
