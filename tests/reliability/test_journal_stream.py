"""Reading the journal as a stream (``Journal.stream``), on SQLite and PostgreSQL: the
same records as ``records()``, in order, whatever the batch, with the same filters, and
records appended between two batches are read too."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .stores import Store

PATIENTS = ("P000001", "P000002", None)


@pytest.fixture
def journal(store: Store):
    with store.journal() as journal:
        journal.record_many(
            [
                {"action": f"test.{n}", "patient_id": PATIENTS[n % 3], "details": {"n": n}}
                for n in range(23)
            ]
        )
        yield journal


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.integers(1, 30), patient=st.sampled_from(PATIENTS))
def test_the_stream_is_the_records_in_order(journal, batch: int, patient: str | None) -> None:
    assert list(journal.stream(patient, batch=batch)) == journal.records(patient)
    about_none = [r for r in journal.records() if r.patient_id is None]
    assert list(journal.stream(about_no_patient=True, batch=batch)) == about_none


def test_the_stream_keeps_since_and_reads_what_is_appended_meanwhile(journal) -> None:
    since = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert list(journal.stream(since=since)) == []
    stream = journal.stream(batch=10)
    first = [next(stream) for _ in range(10)]
    journal.record("test.late")
    rest = list(stream)
    assert [r.seq for r in first + rest] == [r.seq for r in journal.records()]
    assert rest[-1].action == "test.late"
