"""Group commit: concurrent journal calls share transactions, and stay whole and chained."""

from __future__ import annotations

import itertools
import threading

import pytest

from segur_core.journal import Journal, JournalError
from segur_core.journal.store import _Call


def _journal(tmp_path, **kwargs) -> Journal:
    return Journal(tmp_path / "journal.sqlite", pseudonym_key=b"k" * 32, **kwargs)


def test_a_large_call_spans_several_insert_statements(tmp_path):
    journal = _journal(tmp_path)
    first = journal.record("start")
    entries = [{"action": "bulk", "patient_id": f"P{i}", "details": {"i": i}} for i in range(300)]
    written = journal.record_many(entries)
    assert [r.seq for r in written] == list(range(2, 302))
    assert written[0].prev_hash == first.hash
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(written))
    assert journal.records() == [first, *written]
    assert journal.head() == (301, written[-1].hash)
    assert journal.verify().ok
    journal.close()


def test_concurrent_calls_are_each_written_whole_and_in_order(tmp_path):
    journal = _journal(tmp_path)
    threads_count, calls = 8, 40
    results: dict[int, list] = {}
    start = threading.Barrier(threads_count)

    def write(index: int) -> None:
        start.wait()
        mine = []
        for n in range(calls):
            mine.append(journal.record_many([
                {"action": "insi.search", "patient_id": f"T{index}-{n}"},
                {"action": "ins.identity", "patient_id": f"T{index}-{n}"},
            ]))  # fmt: skip
        results[index] = mine

    threads = [threading.Thread(target=write, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = {r.seq: r for r in journal.records()}
    assert len(stored) == threads_count * calls * 2
    for index, mine in results.items():
        for n, (search, change) in enumerate(mine):
            assert change.seq == search.seq + 1  # a call's records stay together
            assert change.prev_hash == search.hash
            assert stored[search.seq] == search and stored[change.seq] == change
            assert search.patient_id == change.patient_id == f"T{index}-{n}"
        assert [pair[0].seq for pair in mine] == sorted(pair[0].seq for pair in mine)
    assert journal.verify().ok
    journal.close()


def test_a_failed_group_fails_every_call_in_it_and_writes_nothing(tmp_path):
    ticks = iter([RuntimeError("clock broken")])

    def clock():
        raise next(ticks)

    journal = _journal(tmp_path, clock=clock)
    queued = _Call([({"action": "other"}, "{}", {})])  # another thread's call, queued
    journal._waiting.append(queued)
    with pytest.raises(RuntimeError, match="clock broken"):  # the writer's own error
        journal.record("mine")
    assert queued.settled and isinstance(queued.error, RuntimeError)
    assert queued.written == []
    assert journal.records() == []
    journal.close()


def test_a_call_written_by_another_thread_reports_that_threads_failure(tmp_path):
    journal = _journal(tmp_path)
    journal.close()  # every write now fails
    queued = _Call([({"action": "other"}, "{}", {})])
    journal._waiting.append(queued)
    with pytest.raises(JournalError, match="closed"):
        journal.record("mine")
    assert isinstance(queued.error, JournalError)
