"""One PostgreSQL database, many pharmacies: a pharmacy never sees, changes or takes over
another's outbox items or journal records. Tried through the stores, and straight in SQL
as the application's role (row-level security, not the code, refuses)."""

from __future__ import annotations

import psycopg
import pytest

from segur_core.errors import ConfigError
from segur_core.model import DeliveryState
from segur_core.outbox import Outbox, UnknownDeliveryError
from segur_core.testing.postgres import PostgresDatabase

from ..reliability.stores import Store, make_store

A, B = "999990013", "999990021"


@pytest.fixture
def pharmacies(request: pytest.FixtureRequest, tmp_path) -> tuple[Store, Store]:
    store = make_store(request, "postgresql", tmp_path)
    return store.for_tenant(A), store.for_tenant(B)


def test_a_pharmacy_sees_none_of_another_pharmacys_outbox(pharmacies) -> None:
    a, b = pharmacies
    sent: list[str] = []
    with a.outbox() as one, b.outbox(senders={"dmp": lambda item: sent.append(item.key)}) as two:
        item = one.enqueue("dmp", "doc-1", b"A's CDA", patient_id="patient-of-a")
        assert two.list() == [] and two.find("doc-1") is None
        assert two.counts()[DeliveryState.PENDING] == 0
        for look in (two.get, two.payload, two.retry):
            with pytest.raises(UnknownDeliveryError):
                look(item.id)
        assert two.deliver_due() == 0 and sent == []  # B's worker cannot take A's item
        own = two.enqueue("dmp", "doc-1", b"B's CDA")  # keys are each pharmacy's own
        assert own.id != item.id
        assert two.run_until_idle(timeout=5) and sent == ["doc-1"]
        assert two.payload(own.id) == b"B's CDA"
        assert one.get(item.id).state is DeliveryState.PENDING  # untouched
        assert one.payload(item.id) == b"A's CDA"


def test_each_pharmacy_has_its_own_hash_chain(pharmacies) -> None:
    a, b = pharmacies
    with a.journal() as one, b.journal() as two:
        one.record("patient.read", patient_id="patient-of-a")
        one.record("insi.call", patient_id="patient-of-a")
        first_of_b = two.record("patient.read", patient_id="patient-of-b")
        assert first_of_b.seq == 1  # B's chain starts at its own genesis
        assert [r.patient_id for r in two.records()] == ["patient-of-b"]
        assert two.records(patient_id="patient-of-a") == []
        assert one.verify().ok and one.verify().count == 2
        assert two.verify().ok and two.verify().count == 1


def _as_app(database_url: str, tenant: str | None) -> psycopg.Connection:
    conn = psycopg.connect(database_url, autocommit=True)
    if tenant is not None:
        conn.execute("SELECT set_config('app.tenant', %s, false)", (tenant,))
    return conn


def test_the_database_refuses_cross_tenant_sql(pharmacies) -> None:
    a, b = pharmacies
    with a.outbox() as one, a.journal() as journal:
        one.enqueue("dmp", "doc-1", b"A's CDA", patient_id="patient-of-a")
        journal.record("patient.read", patient_id="patient-of-a")
    with _as_app(b.url, B) as conn:
        for table in ("outbox_deliveries", "journal_records", "journal_heads"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        taken = conn.execute("UPDATE outbox_deliveries SET tenant = %s", (B,))
        assert taken.rowcount == 0  # A's rows are not there to update
        assert conn.execute("DELETE FROM outbox_deliveries").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO outbox_deliveries (tenant, kind, key, state, created_at, payload)"
                " VALUES (%s, 'dmp', 'forged', 'pending', 0, '')",
                (A,),
            )  # writing into A's queue
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER TABLE outbox_deliveries DISABLE ROW LEVEL SECURITY")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET ROLE segur_owner")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE journal_records SET outcome = 'x'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("TRUNCATE journal_records")
    with _as_app(a.url, None) as conn, pytest.raises(psycopg.errors.UndefinedObject):
        conn.execute("SELECT count(*) FROM outbox_deliveries")  # no tenant: no rows at all
    with _as_app(a.url, A) as conn:  # A's own rows are all there
        assert conn.execute("SELECT count(*) FROM outbox_deliveries").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM journal_records").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM journal_records")  # not even its own
    with psycopg.connect(a.owner_url, autocommit=True) as conn:  # nor the tables' owner
        conn.execute("SELECT set_config('app.tenant', %s, false)", (A,))
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM journal_records")


def test_a_store_without_a_pharmacy_is_refused(postgresql_database: PostgresDatabase) -> None:
    for tenant in (None, "", "12345", "99999001X", "' OR 1=1 --"):
        with pytest.raises(ConfigError, match="FINESS"):
            Outbox(postgresql_database.owner_url, tenant=tenant)
