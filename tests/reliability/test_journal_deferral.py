"""Records that wait for the next record of the same call (``record_later``): one
transaction for both, the order of the trail kept, nothing left unwritten; on SQLite and
on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from segur_core.journal import Journal, JournalError
from segur_core.journal.acting import acting
from segur_core.journal.deferral import deferring


class _Ticks:
    """A clock a second later at each reading: the journal reads it once per commit, so
    records written together share their moment and separate commits do not (its
    checkpoint file reads it too, when it starts)."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> dt.datetime:
        self.readings += 1
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=self.readings)


@pytest.fixture
def ticks() -> _Ticks:
    return _Ticks()


@pytest.fixture
def journal(store, ticks):
    """A journal on each backend (SQLite, PostgreSQL), on the ticking clock."""
    with store.journal(pseudonym_key=b"k" * 32, clock=ticks) as opened:
        yield opened


def _commits(journal) -> int:
    return len({r.at for r in journal.records()})


def test_outside_a_scope_a_record_later_is_written_at_once(journal):
    journal.record_later([{"action": "insi.search", "patient_id": "P1"}])
    assert [r.action for r in journal.records()] == ["insi.search"]


def test_a_record_later_shares_the_next_records_commit_and_comes_first(journal):
    first = journal.record("before")
    with deferring():
        journal.record_later([{"action": "insi.search", "patient_id": "P1"}])
        assert journal.records() == [first]  # waiting, not written
        call = journal.record("api.call", service="api", patient_id="P1")
    assert _commits(journal) == 2  # "before", then both records together
    search, written = journal.records()[1:]
    assert (search.action, written) == ("insi.search", call)  # only its own records back
    assert search.at == call.at and search.seq + 1 == call.seq
    assert search.prev_hash == first.hash and call.prev_hash == search.hash
    assert journal.verify().ok


def test_what_still_waits_at_the_end_of_the_scope_is_written_even_on_an_error(journal):
    with pytest.raises(RuntimeError), deferring():
        journal.record_later([{"action": "insi.search", "patient_id": "P1"}])
        journal.record_later([{"action": "ins.qualify", "outcome": "refused"}])
        raise RuntimeError("the handler failed midway")
    assert [r.action for r in journal.records()] == ["insi.search", "ins.qualify"]
    assert _commits(journal) == 1


def test_a_record_that_must_be_durable_first_takes_the_waiting_ones_with_it(journal):
    with deferring():
        journal.record_later([{"action": "insi.search", "patient_id": "P1"}])
        change = journal.record_many([{"action": "ins.identity", "patient_id": "P1"}])
        # durable now, before whatever comes next (the host saving the patient)
        assert [r.action for r in journal.records()] == ["insi.search", "ins.identity"]
        journal.record("api.call")
    assert change[0].seq == 2
    assert _commits(journal) == 2


def test_other_threads_are_not_held_back(journal):
    with deferring():
        journal.record_later([{"action": "insi.search"}])
        elsewhere = threading.Thread(target=journal.record, args=("outbox.sent",))
        elsewhere.start()
        elsewhere.join()
        assert [r.action for r in journal.records()] == ["outbox.sent"]
    assert [r.action for r in journal.records()] == ["outbox.sent", "insi.search"]


def test_a_bad_record_is_refused_when_it_is_made_not_with_the_next_one(journal):
    with deferring():
        with pytest.raises(JournalError):
            journal.record_later([{"outcome": "ok"}])
        journal.record("api.call")
    assert [r.action for r in journal.records()] == ["api.call"]


def test_the_runtimes_actor_names_the_records_that_waited(journal):
    wrapped = acting(journal, "cli:alice")
    with deferring():
        wrapped.record_later([{"action": "insi.search", "actor": "plugin:ins"}])
        wrapped.record("api.call", actor="token")
    assert [(r.action, r.actor) for r in journal.records()] == [
        ("insi.search", "cli:alice"),
        ("api.call", "token"),
    ]


def test_a_record_that_waited_is_in_the_debug_log_like_any_other(tmp_path, caplog):
    """SQLite's journal logs each record it writes at DEBUG (a pseudonym, never the
    patient); the records that waited are logged by the call that wrote them."""

    with (
        Journal(tmp_path / "journal.sqlite", pseudonym_key=b"k" * 32) as journal,
        caplog.at_level("DEBUG", logger="segur.audit"),
        deferring(),
    ):
        journal.record_later([{"action": "insi.search", "patient_id": "P1"}])
        journal.record("api.call", service="api", patient_id="P1")
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("audit #")]
    assert [line.split()[2] for line in logged] == ["insi.search", "api.call"]
    assert not any("P1" in line for line in logged)
