"""The audit journal: chaining, tamper detection straight in the database, pseudonyms."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segur_core.journal import GENESIS, Journal, JournalError, ProblemKind
from segur_core.journal.chain import link_hash

from .journal_tamper import swap, tamper_store
from .journal_tamper import tamper as _tamper
from .stores import Store, random_tenant

NIR = "185057800608436"  # a patient identifier that must never reach ordinary logs


def _fill(journal: Journal, count: int) -> None:
    for i in range(count):
        journal.record(
            "patient.read" if i % 2 else "insi.call",
            outcome="ok" if i % 3 else "error",
            service=None if i % 2 else "insi",
            patient_id=f"patient-{i % 4}",
            actor="rpps:10000000001",
            details={"n": i, "note": "clé à molette", "ratio": i / 7},
        )


@pytest.fixture
def journal(store: Store):
    """The journal on each backend."""
    with store.journal() as journal:
        yield journal


@pytest.fixture
def sqlite_journal(tmp_path: Path):
    with Journal(tmp_path / "audit.db") as journal:
        yield journal


def test_records_are_chained_and_read_back(journal: Journal) -> None:
    _fill(journal, 12)
    records = journal.records()
    assert [r.seq for r in records] == list(range(1, 13))
    assert records[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.hash
    assert records[4].details == {"n": 4, "note": "clé à molette", "ratio": 4 / 7}
    assert [r.seq for r in journal.records(patient_id="patient-1")] == [2, 6, 10]
    assert [r.seq for r in journal.records(limit=3)] == [10, 11, 12]
    assert journal.records(since=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == []
    report = journal.verify()
    assert report.ok and report.checked == 12 and report.first_bad is None
    assert report.head == records[-1].hash == journal.head()[1]


def test_hash_covers_every_field(journal: Journal) -> None:
    record = journal.record("dmp.feed", service="dmp", patient_id="p", actor="a", details={"x": 1})
    fields = {
        "actor": "a",
        "at": record.at.isoformat(),
        "patient_id": "p",
        "action": "dmp.feed",
        "service": "dmp",
        "outcome": "ok",
        "details": '{"x":1}',
        "prev_hash": GENESIS,
    }
    assert link_hash(**fields) == record.hash
    for name in fields:
        changed = dict(fields, **{name: '{"x":2}' if name == "details" else "1" * 64})
        assert link_hash(**changed) != record.hash, name


def test_database_refuses_update_and_delete(sqlite_journal: Journal) -> None:
    _fill(sqlite_journal, 2)
    conn = sqlite3.connect(sqlite_journal.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE records SET outcome = 'ok'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM records WHERE seq = 1")
    conn.close()
    assert sqlite_journal.verify().ok


def test_modified_record_is_reported(store: Store, journal: Journal) -> None:
    _fill(journal, 10)
    tamper_store(store, ("UPDATE records SET outcome = 'tampered' WHERE seq = 5", ()))
    report = journal.verify()
    assert not report.ok
    assert report.kinds() == {ProblemKind.MODIFIED}
    assert report.first_bad == 5
    assert "record 5" in report.problems[0].message


def test_modified_patient_is_reported(store: Store, journal: Journal) -> None:
    _fill(journal, 6)
    tamper_store(store, ("UPDATE records SET patient_id = 'someone-else' WHERE seq = 3", ()))
    report = journal.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(3, ProblemKind.MODIFIED)]


def test_rewritten_record_with_new_hash_breaks_the_chain(sqlite_journal: Journal) -> None:
    _fill(sqlite_journal, 8)
    row = (
        sqlite3.connect(sqlite_journal.path)
        .execute(
            "SELECT at, actor, patient_id, action, service, details, prev_hash FROM records"
            " WHERE seq = 4"
        )
        .fetchone()
    )
    at, actor, patient_id, action, service, details, prev = row
    forged = link_hash(
        actor=actor,
        at=at,
        patient_id=patient_id,
        action=action,
        service=service,
        outcome="forged",
        details=details,
        prev_hash=prev,
    )
    _tamper(
        sqlite_journal.path,
        ("UPDATE records SET outcome = 'forged', hash = ? WHERE seq = 4", (forged,)),
    )
    report = sqlite_journal.verify()
    # the chain shows the break after record 4; the checkpoint written with record 4
    # shows that record 4 itself is not the one written then
    assert [(p.seq, p.kind) for p in report.problems] == [
        (5, ProblemKind.BAD_CHAIN),
        (4, ProblemKind.REWRITTEN),
    ]
    assert "record 4" in report.problems[0].message
    assert report.first_bad == 4


def test_deleted_record_is_reported(store: Store, journal: Journal) -> None:
    _fill(journal, 10)
    tamper_store(store, ("DELETE FROM records WHERE seq = 4", ()))
    report = journal.verify()
    assert report.kinds() == {ProblemKind.DELETED}
    assert report.first_bad == 4
    assert report.checked == 9


def test_deleted_first_and_last_records_are_reported(store: Store, journal: Journal) -> None:
    _fill(journal, 10)
    tamper_store(store, ("DELETE FROM records WHERE seq IN (1, 9, 10)", ()))
    report = journal.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [
        (1, ProblemKind.DELETED),
        (9, ProblemKind.DELETED),
    ]
    assert "records 9-10" in report.problems[1].message


def test_deleted_and_renumbered_records_are_reported(sqlite_journal: Journal) -> None:
    _fill(sqlite_journal, 6)
    _tamper(
        sqlite_journal.path,
        ("DELETE FROM records WHERE seq = 3", ()),
        ("UPDATE records SET seq = seq - 1 WHERE seq > 3", ()),
        ("UPDATE head SET seq = 5", ()),
        ("UPDATE sqlite_sequence SET seq = 5 WHERE name = 'records'", ()),
    )
    report = sqlite_journal.verify()
    assert report.first_bad == 3
    assert ProblemKind.BAD_CHAIN in report.kinds()


def test_reordered_records_are_reported(store: Store, journal: Journal) -> None:
    _fill(journal, 10)
    swap(store, 6, 7)
    report = journal.verify()
    assert ProblemKind.REORDERED in report.kinds()
    assert ProblemKind.MODIFIED not in report.kinds()
    assert report.first_bad == 6


def test_reordered_by_renumbering_is_reported(store: Store, journal: Journal) -> None:
    _fill(journal, 5)
    tamper_store(
        store,
        ("UPDATE records SET seq = 100 WHERE seq = 2", ()),
        ("UPDATE records SET seq = 2 WHERE seq = 3", ()),
        ("UPDATE records SET seq = 3 WHERE seq = 100", ()),
    )
    report = journal.verify()
    assert report.kinds() == {ProblemKind.REORDERED}
    assert report.first_bad == 2


TAMPERINGS = st.sampled_from(["modify", "delete", "swap"])


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(2, 15), data=st.data(), how=TAMPERINGS)
def test_any_tampering_is_found_at_the_first_bad_record(
    store: Store,
    tmp_path_factory: pytest.TempPathFactory,
    count: int,
    data: st.DataObject,
    how: str,
) -> None:
    # each example a new journal: a new file, or a new pharmacy's chain
    if store.url is None:
        store = Store("sqlite", tmp_path_factory.mktemp("journal"))
    else:
        store = store.for_tenant(random_tenant())
    with store.journal(pseudonym_key=b"k" * 32) as journal:
        _fill(journal, count)
        assert journal.verify().ok
        if how == "swap":
            seq = data.draw(st.integers(1, count - 1), label="seq")
            swap(store, seq, seq + 1)
        else:
            seq = data.draw(st.integers(1, count), label="seq")
            column = data.draw(
                st.sampled_from(["at", "actor", "patient_id", "action", "outcome", "details"])
            )
            sql = (
                f"UPDATE records SET {column} = '\"x\"' WHERE seq = ?"
                if how == "modify"
                else "DELETE FROM records WHERE seq = ?"
            )
            tamper_store(store, (sql, (seq,)))
        report = journal.verify()
        assert not report.ok
        assert report.first_bad == seq
        expected = {"modify": ProblemKind.MODIFIED, "delete": ProblemKind.DELETED}
        assert expected.get(how, ProblemKind.REORDERED) in report.kinds()


def test_concurrent_writers_keep_one_chain(store: Store, journal: Journal) -> None:
    def write(n: int) -> None:
        for i in range(40):
            journal.record("thread.write", details={"thread": n, "i": i})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # a second connection (another process would do the same) appends to the same chain
    with store.journal() as other:
        other.record("other.process")
    report = journal.verify()
    assert report.ok and report.checked == 241


def test_pseudonym_is_keyed_stable_and_leaks_nothing(tmp_path: Path, caplog) -> None:
    with Journal(tmp_path / "a" / "audit.db") as journal:
        pseudonym = journal.pseudonym(NIR)
        assert pseudonym == journal.pseudonym(NIR)
        assert pseudonym != journal.pseudonym(NIR[:-1] + "7")
        assert journal.pseudonym(None) is None
        for part in (NIR, NIR[:5], NIR[-5:], NIR[5:10]):
            assert part not in pseudonym
        key_file = tmp_path / "a" / "pseudonym.key"
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
        with caplog.at_level(logging.DEBUG, logger="segur.audit"):
            record = journal.record("patient.read", patient_id=NIR, service="insi")
        assert record.patient_id == NIR  # the journal itself is the audit trail
        assert NIR not in repr(record)
        assert NIR not in caplog.text
        assert pseudonym in caplog.text
    # the same installation keeps its key; another one gets another pseudonym
    with Journal(tmp_path / "a" / "audit.db") as again:
        assert again.pseudonym(NIR) == pseudonym
    with Journal(tmp_path / "b" / "audit.db") as elsewhere:
        assert elsewhere.pseudonym(NIR) != pseudonym
    with Journal(tmp_path / "c" / "audit.db", pseudonym_key=b"x" * 32) as keyed:
        assert keyed.pseudonym(NIR) == Journal(
            tmp_path / "d" / "audit.db", pseudonym_key=b"x" * 32
        ).pseudonym(NIR)


def test_closed_or_bad_journal_raises_typed_errors(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "audit.db")
    journal.close()
    with pytest.raises(JournalError):
        journal.record("x")
    with pytest.raises(JournalError):
        journal.record("")  # no action
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError):
        Journal(tmp_path / "junk.db")


def test_a_call_of_thousands_of_records_is_one_chained_transaction(store: Store) -> None:
    with store.journal(pseudonym_key=b"k" * 32) as journal:
        journal.record("first")
        written = journal.record_many(
            [{"action": "bulk", "details": {"i": i}} for i in range(2500)]
        )
        assert [r.seq for r in written] == list(range(2, 2502))
        assert journal.head() == (2501, written[-1].hash)
        report = journal.verify()
        assert report.ok and report.count == 2501
