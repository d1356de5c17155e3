"""The reference host on PostgreSQL: it passes the conformance kit, each pharmacy sees
only its own patients and documents, and ``[segur] store`` puts a runtime's host,
outbox and journal there."""

from __future__ import annotations

import textwrap
from pathlib import Path

import psycopg
import pytest

from hostspecs.conformance import samples
from hostspecs.reference.postgres import PostgresReferenceHost
from segur_core.config import Config
from segur_core.errors import ConfigError
from segur_core.testing.postgres import PostgresDatabase

from ..reliability.stores import migrated
from .test_conformance_kit import run_kit

A, B = "999990013", "999990021"

FACTORY = textwrap.dedent(
    """
    import os, secrets
    from hostspecs.reference.postgres import PostgresReferenceHost

    def make(directory):  # each of the kit's tests a new, empty pharmacy
        tenant = f"99{secrets.randbelow(10**7):07d}"
        return PostgresReferenceHost(os.environ["SEGUR_STORE"], tenant=tenant)
    """
)


@pytest.fixture
def database(postgresql_database: PostgresDatabase) -> PostgresDatabase:
    PostgresReferenceHost(postgresql_database.owner_url, tenant=A).close()  # migrated
    migrated(postgresql_database.owner_url)  # and the outbox's and journal's tables
    return postgresql_database


def test_the_postgresql_host_passes_the_kit(database, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pg_host.py").write_text(FACTORY, encoding="utf-8")
    monkeypatch.setenv("SEGUR_STORE", database.app_url)
    result = run_kit(tmp_path, "--host-factory=pg_host:make")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_a_pharmacy_sees_none_of_another_pharmacys_patients(database) -> None:
    with (
        PostgresReferenceHost(database.app_url, tenant=A) as a,
        PostgresReferenceHost(database.app_url, tenant=B) as b,
    ):
        patient = a.host_save_patient(samples.patient())
        document = a.host_store_document(samples.document(patient.id, 1))
        traits = patient.identity.traits
        assert a.host_get_patient(patient.id) == patient
        assert b.host_get_patient(patient.id) is None
        assert b.host_find_patients(traits.birth_name, None, None, None) == []
        assert b.host_get_document(document.id) is None
        assert b.host_list_documents(patient.id) == []
        own = b.host_save_patient(samples.patient())
        assert own.id == patient.id  # numbered per pharmacy: the same number, two patients
        assert a.host_list_documents(patient.id) == [document]
        assert b.host_structure().finess == B
    with psycopg.connect(database.app_url, autocommit=True) as conn:
        conn.execute("SELECT set_config('app.tenant', %s, false)", (B,))
        assert conn.execute("SELECT count(*) FROM patient").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM document").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("UPDATE patient SET tenant = %s", (A,))  # giving a patient away


def test_segur_toml_puts_host_outbox_and_journal_in_postgresql(
    database, make_segur_runtime, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SEGUR_TEST_STORE", database.app_url)
    config = {"segur": {"store": "env:SEGUR_TEST_STORE", "tenant": A}}
    runtime = make_segur_runtime(config=config)
    saved = runtime.host_object.host_save_patient(samples.patient())
    runtime.outbox.enqueue("dmp", "doc-1", b"x", patient_id=saved.id)
    runtime.journal.record("patient.read", patient_id=saved.id)
    assert type(runtime.host_object).__name__ == "PostgresReferenceHost"
    with (
        PostgresReferenceHost(database.app_url, tenant=A) as host,
        psycopg.connect(database.app_url, autocommit=True) as conn,
    ):
        assert host.host_get_patient(saved.id) == saved
        conn.execute("SELECT set_config('app.tenant', %s, false)", (A,))
        assert conn.execute("SELECT key FROM outbox_deliveries").fetchall() == [("doc-1",)]
        assert conn.execute("SELECT action FROM journal_records").fetchall() == [("patient.read",)]
    assert not (runtime.data_dir / "outbox.sqlite").exists()
    assert not (runtime.data_dir / "journal.sqlite").exists()


@pytest.mark.parametrize(
    ("segur", "message"),
    [
        ({"store": "postgresql://u:secret@db/segur", "tenant": A}, "env:NAME or file:PATH"),
        ({"store": "env:SEGUR_TEST_STORE"}, "FINESS"),
        ({"store": "env:SEGUR_TEST_STORE", "tenant": "12"}, "FINESS"),
        ({"store": "env:SEGUR_TEST_NOT_SET", "tenant": A}, "not set"),
        ({"store": "env:HOME", "tenant": A}, "not a postgresql:// URL"),
        ({"tenant": A}, "needs a PostgreSQL store"),
    ],
)
def test_bad_store_settings_name_their_key(segur, message, monkeypatch) -> None:
    monkeypatch.setenv("SEGUR_TEST_STORE", "postgresql://u:secret@db/segur")
    monkeypatch.delenv("SEGUR_TEST_NOT_SET", raising=False)
    with pytest.raises(ConfigError, match=message) as caught:
        Config.from_dict({"segur": segur})
    assert "secret" not in str(caught.value)
    assert caught.value.key in ("segur.store", "segur.tenant")


def test_the_store_url_is_never_shown(monkeypatch) -> None:
    monkeypatch.setenv("SEGUR_TEST_STORE", "postgresql://u:secret@db/segur")
    config = Config.from_dict({"segur": {"store": "env:SEGUR_TEST_STORE", "tenant": A}})
    assert config.settings.store_url == "postgresql://u:secret@db/segur"
    assert "secret" not in repr(config.settings) and "secret" not in repr(config)


def test_a_postgresql_host_without_a_store_is_a_config_error(tmp_path: Path, monkeypatch) -> None:
    from hostspecs.reference.postgres import postgres_host

    monkeypatch.delenv("SEGUR_STORE", raising=False)
    with pytest.raises(ConfigError, match="needs a database"):
        postgres_host(tmp_path)
