"""The RNIV identity status machine."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_ins.oids import INS_NIR_OID
from segur_ins.status import (
    AttributeCleared,
    AttributeSet,
    DocumentChecked,
    HighTrustDocument,
    InsiRetrieved,
    InsKeyError,
    InsMismatch,
    TraitsModified,
    apply,
    check_identity,
    shareable_ins,
    status_for,
)
from segur_ins.traits import StrictTrait

from segur_core.errors import IdentityError
from segur_core.model import INS, BirthDate, Identity, IdentityAttribute, IdentityTraits
from segur_core.model import IdentityStatus as S

A = IdentityAttribute
T0 = IdentityTraits("ECETINSI", ("PIERRE-ALAIN", "MURIEL"), "M", BirthDate(2009, 7, 14), "63220")
T1 = attrs.evolve(T0, birth_name="ECETINSY")
T0_USED = attrs.evolve(T0, used_name="MARTIN")
INS0 = INS("109076322083489", INS_NIR_OID)
HISTO = (INS("209076322083439", INS_NIR_OID),)


def identity(status: S = S.PROVISIONAL, attributes=(), traits=T0) -> Identity:
    ins = INS0 if status in (S.RECOVERED, S.QUALIFIED) else None
    return Identity(traits=traits, status=status, ins=ins, attributes=attributes)


@pytest.mark.parametrize(
    ("start", "event", "end"),
    [
        (S.PROVISIONAL, InsiRetrieved(INS0, T0), S.RECOVERED),
        (S.VALIDATED, InsiRetrieved(INS0, T0), S.QUALIFIED),
        (S.RECOVERED, InsiRetrieved(INS0, T0), S.RECOVERED),
        (S.QUALIFIED, InsiRetrieved(INS0, T0), S.QUALIFIED),
        (S.VALIDATED, InsiRetrieved(INS0, T1), S.RECOVERED),  # checked other traits
        (S.QUALIFIED, InsiRetrieved(INS0, T1), S.RECOVERED),
        (S.PROVISIONAL, DocumentChecked("CN"), S.VALIDATED),
        (S.PROVISIONAL, DocumentChecked(HighTrustDocument.AV), S.VALIDATED),
        (S.RECOVERED, DocumentChecked("PA", T0), S.QUALIFIED),
        (S.VALIDATED, DocumentChecked("CS"), S.VALIDATED),
        (S.QUALIFIED, TraitsModified(T1), S.PROVISIONAL),
        (S.VALIDATED, TraitsModified(T1), S.PROVISIONAL),
        (S.QUALIFIED, TraitsModified(T0_USED), S.QUALIFIED),  # complementary trait only
        (S.QUALIFIED, InsMismatch((StrictTrait.BIRTH_NAME,)), S.VALIDATED),
        (S.RECOVERED, InsMismatch(), S.PROVISIONAL),
        (S.QUALIFIED, AttributeSet(A.DOUBTFUL), S.PROVISIONAL),
        (S.QUALIFIED, AttributeSet(A.FICTITIOUS), S.PROVISIONAL),
        (S.QUALIFIED, AttributeSet(A.HOMONYM), S.QUALIFIED),
    ],
)
def test_transitions(start: S, event, end: S) -> None:
    before = identity(start)
    after, transition = apply(before, event)
    assert after.status is end
    assert (transition.from_status, transition.to_status) == (start, end)
    assert transition.event == event.kind and transition.reason
    assert (after.ins is not None) == (end in (S.RECOVERED, S.QUALIFIED))
    assert transition.lost_retrieval == (
        start in (S.RECOVERED, S.QUALIFIED) and end not in (S.RECOVERED, S.QUALIFIED)
    )


def test_insi_retrieval_sets_ins_traits_and_history() -> None:
    before = identity(S.PROVISIONAL, traits=attrs.evolve(T0_USED, birth_name="ecetinsi"))
    found = attrs.evolve(T0, first_names=("Pierre-Alain", "Muriel"))
    after, transition = apply(before, InsiRetrieved(INS0, found, HISTO))
    assert after.ins == INS0 and after.ins_history == HISTO
    assert after.traits.first_names == ("PIERRE-ALAIN", "MURIEL")  # normalised
    assert after.traits.used_name == "MARTIN"  # complementary traits kept
    assert transition.ins_changed and transition.changed


def test_insi_retrieval_refuses_a_server_key_that_does_not_check() -> None:
    hermann = INS("181036322045660", INS_NIR_OID)  # CNDA fixture with a wrong key
    with pytest.raises(InsKeyError):  # never adopted (it would qualify a VALI identity)
        apply(identity(), InsiRetrieved(hermann, T0))
    with pytest.raises(IdentityError):
        apply(identity(), InsiRetrieved(INS("181036322045660", "1.2.3"), T0))


def test_document_with_other_traits_is_refused() -> None:
    with pytest.raises(IdentityError, match="birth_name"):
        apply(identity(S.RECOVERED), DocumentChecked("CN", T1))


@pytest.mark.parametrize("attribute", [A.DOUBTFUL, A.FICTITIOUS])
def test_doubtful_and_fictitious_block_insi_and_document_checks(attribute: A) -> None:
    blocked, transition = apply(identity(S.QUALIFIED), AttributeSet(attribute, "reason"))
    assert blocked.status is S.PROVISIONAL and blocked.ins is None and not blocked.ins_history
    assert transition.downgraded and transition.reason.endswith(": reason")
    for event in (InsiRetrieved(INS0, T0), DocumentChecked("CN")):
        with pytest.raises(IdentityError, match=str(attribute)):
            apply(blocked, event)
    cleared, transition = apply(blocked, AttributeCleared(attribute))
    assert cleared.status is S.PROVISIONAL and not cleared.attributes
    assert apply(cleared, DocumentChecked("CN"))[0].status is S.VALIDATED


def test_attribute_combinations() -> None:
    both, _ = apply(apply(identity(), AttributeSet(A.HOMONYM))[0], AttributeSet(A.DOUBTFUL))
    assert both.attributes == {A.HOMONYM, A.DOUBTFUL}
    for start in (both, apply(identity(), AttributeSet(A.HOMONYM))[0]):
        with pytest.raises(IdentityError, match="fictitious"):
            apply(start, AttributeSet(A.FICTITIOUS))
    fictitious, _ = apply(identity(), AttributeSet(A.FICTITIOUS))
    for attribute in (A.HOMONYM, A.DOUBTFUL):
        with pytest.raises(IdentityError, match="fictitious"):
            apply(fictitious, AttributeSet(attribute))
    same, transition = apply(fictitious, AttributeSet(A.FICTITIOUS))
    assert same == fictitious and not transition.changed


def test_ins_mismatch_needs_an_ins() -> None:
    with pytest.raises(IdentityError):
        apply(identity(S.VALIDATED), InsMismatch())


def test_inconsistent_identities_are_refused() -> None:
    for bad in (
        Identity(traits=T0, status=S.QUALIFIED),
        Identity(traits=T0, status=S.VALIDATED, ins=INS0),
        Identity(traits=T0, status=S.VALIDATED, attributes={A.DOUBTFUL}),
        Identity(traits=T0, attributes={A.FICTITIOUS, A.HOMONYM}),
    ):
        with pytest.raises(IdentityError):
            check_identity(bad)
        with pytest.raises(IdentityError):
            apply(bad, DocumentChecked("CN"))


def test_only_qual_exposes_its_ins() -> None:
    assert shareable_ins(identity(S.QUALIFIED)) == INS0
    for status in (S.PROVISIONAL, S.RECOVERED, S.VALIDATED):
        assert shareable_ins(identity(status)) is None
    # even a hand-made inconsistent identity does not leak
    assert shareable_ins(Identity(T0, S.QUALIFIED, INS0, {A.DOUBTFUL})) is None


def test_journal_details_hold_no_identifier() -> None:
    at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    after, transition = apply(identity(), InsiRetrieved(INS0, T0, HISTO), at=at)
    assert after.updated_at == at
    details = transition.journal_details()
    assert details["from"] == "PROV" and details["to"] == "RECUP"
    text = repr(details) + repr(transition)
    for secret in (INS0.matricule, INS0.matricule[:13], "ECETINSI", "PIERRE"):
        assert secret not in text


def test_unknown_event_is_refused() -> None:
    with pytest.raises(IdentityError):
        apply(identity(), object())  # type: ignore[arg-type]


# -- random event sequences against a reference model ----------------------------------------

events = st.one_of(
    st.builds(InsiRetrieved, st.just(INS0), st.sampled_from([T0, T1])),
    st.builds(DocumentChecked, st.sampled_from(HighTrustDocument),
              st.sampled_from([None, T0, T1])),
    st.builds(TraitsModified, st.sampled_from([T0, T1, T0_USED])),
    st.builds(AttributeSet, st.sampled_from(A)),
    st.builds(AttributeCleared, st.sampled_from(A)),
    st.builds(InsMismatch),
)  # fmt: skip


class Model:
    """The rules restated as two flags, independently of the implementation."""

    def __init__(self) -> None:
        self.retrieved = self.checked = False
        self.attributes: set[A] = set()
        self.name = T0.birth_name

    def step(self, event) -> bool:
        """Apply ``event``; False when the machine must refuse it."""
        blocked = bool(self.attributes & {A.DOUBTFUL, A.FICTITIOUS})
        if isinstance(event, InsiRetrieved):
            if blocked:
                return False
            self.checked = self.checked and event.traits.birth_name == self.name
            self.retrieved, self.name = True, event.traits.birth_name
        elif isinstance(event, DocumentChecked):
            if blocked or (event.traits is not None and event.traits.birth_name != self.name):
                return False
            self.checked = True
        elif isinstance(event, TraitsModified):
            if event.traits.birth_name != self.name:
                self.retrieved = self.checked = False
                self.name = event.traits.birth_name
        elif isinstance(event, AttributeSet):
            if event.attribute in self.attributes:
                return True
            if A.FICTITIOUS in self.attributes or (
                event.attribute is A.FICTITIOUS and self.attributes
            ):
                return False
            self.attributes.add(event.attribute)
            if event.attribute is not A.HOMONYM:
                self.retrieved = self.checked = False
        elif isinstance(event, AttributeCleared):
            self.attributes.discard(event.attribute)
        elif isinstance(event, InsMismatch):
            if not self.retrieved:
                return False
            self.retrieved = False
        return True


@given(st.lists(events, max_size=30))
def test_random_sequences_follow_the_rules(sequence) -> None:
    current = identity()
    model = Model()
    history: list[tuple[object, object]] = []  # (event, transition) of accepted events
    for event in sequence:
        accepted = model.step(event)
        try:
            new, transition = apply(current, event)
        except IdentityError:
            assert not accepted, event
            continue
        assert accepted, event
        current = new
        history.append((event, transition))
        assert current.status is status_for(model.retrieved, model.checked)
        assert current.attributes == model.attributes
        check_identity(current)
        assert (shareable_ins(current) is not None) == (current.status is S.QUALIFIED)
        if current.attributes & {A.DOUBTFUL, A.FICTITIOUS}:
            assert current.status is S.PROVISIONAL and current.ins is None
        if current.status is S.QUALIFIED:
            _assert_earned_qualification(history)


def _assert_earned_qualification(history) -> None:
    """QUAL needs an INSi retrieval since the INSi criterion was last lost, a document
    check since the document criterion was last lost, and both since the last time the
    identity went back to PROV."""
    last_insi = last_document = -1
    lost_insi = lost_document = back_to_prov = -1
    for index, (event, transition) in enumerate(history):
        if isinstance(event, InsiRetrieved):
            last_insi = index
        if isinstance(event, DocumentChecked):
            last_document = index
        if transition.lost_retrieval:
            lost_insi = index
        if transition.lost_check:
            lost_document = index
        if transition.to_status is S.PROVISIONAL and transition.downgraded:
            back_to_prov = index
    assert last_insi > lost_insi and last_document > lost_document
    assert last_insi > back_to_prov and last_document > back_to_prov
