"""The journal's write-side hash (built field by field) equals the verifying one."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from segur_core.journal.chain import link_hash, link_hash_canonical, normalised_details

_text = st.text(max_size=40)
_maybe = st.none() | _text
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


@given(
    actor=_maybe, at=_text, patient_id=_maybe, action=_text, service=_maybe, outcome=_text,
    details=st.none() | st.dictionaries(_text, _json, max_size=5), prev=_text,
)  # fmt: skip
def test_canonical_link_hash_matches_link_hash(
    actor, at, patient_id, action, service, outcome, details, prev
):
    text, value = normalised_details(details)
    fields = dict(actor=actor, at=at, patient_id=patient_id, action=action, service=service,
                  outcome=outcome, details=text, prev_hash=prev)  # fmt: skip
    assert link_hash_canonical(**fields) == link_hash(**fields)
    assert value == json.loads(text)  # what reading the record back gives


def test_record_many_chains_like_single_records_in_one_transaction(tmp_path):
    import pytest

    from segur_core.journal import Journal, JournalError

    journal = Journal(tmp_path / "j.sqlite", pseudonym_key=b"k" * 32)
    first = journal.record("a", patient_id="P1")
    pair = journal.record_many(
        [
            {
                "action": "insi.search",
                "service": "insi",
                "patient_id": "P1",
                "details": {"cr": "00"},
            },
            {"action": "ins.identity", "patient_id": "P1", "details": {"to": "RECUP"}},
        ]
    )
    assert [r.seq for r in pair] == [2, 3]
    assert pair[0].prev_hash == first.hash and pair[1].prev_hash == pair[0].hash
    assert journal.head() == (3, pair[1].hash)
    assert journal.records() == [first, *pair]
    with pytest.raises(JournalError):  # one bad entry: none of them is written
        journal.record_many([{"action": "b"}, {"action": ""}])
    with pytest.raises(JournalError):
        journal.record_many([{"action": "b", "patient": "P1"}])
    assert journal.head() == (3, pair[1].hash) and journal.verify().ok
    journal.close()
