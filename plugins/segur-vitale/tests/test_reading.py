"""From a card to on_card_read: beneficiary choice, journal, nothing dispatched on failure."""

from __future__ import annotations

import pytest
from segur_vitale.errors import CardRemovedError, UnsupportedCardError
from segur_vitale.reading import CHOOSE_BENEFICIARY, read_and_dispatch
from segur_vitale.transport import DirectTransport
from segur_vitale.virtual import (
    DEMO_CARDHOLDER,
    SECOND_BENEFICIARY,
    cps_card,
    demo_card,
    family_card,
)

from segur_core.model import ReadingSource
from segur_core.testing.recorder import HookRecorder


def test_single_beneficiary_is_dispatched_without_asking(vitale_runtime):
    recorder = HookRecorder.attach(vitale_runtime)
    reading = read_and_dispatch(vitale_runtime, DirectTransport(demo_card()))
    call = recorder.one("on_card_read")
    assert call.kwargs["reading"] is reading
    assert reading.nir == DEMO_CARDHOLDER.nir and reading.source is ReadingSource.VITALE_CARD
    assert vitale_runtime.test_questions == []
    recorder.detach()


def test_pharmacist_picks_among_several_beneficiaries(vitale_runtime):
    vitale_runtime.test_choices.append("2")
    recorder = HookRecorder.attach(vitale_runtime)
    reading = read_and_dispatch(vitale_runtime, DirectTransport(family_card()))
    (question,) = vitale_runtime.test_questions
    assert question.kind == CHOOSE_BENEFICIARY
    assert [o.key for o in question.options] == ["1", "2"] and question.default == "1"
    assert reading.beneficiary_rank == 2 and reading.nir == SECOND_BENEFICIARY.nir
    assert recorder.one("on_card_read").kwargs["reading"].beneficiary_rank == 2
    recorder.detach()


@pytest.mark.parametrize("make, error", [
    (lambda: _pulled(family_card(), 5), CardRemovedError),
    (lambda: DirectTransport(cps_card()), UnsupportedCardError),
])
def test_failed_read_dispatches_nothing_and_saves_nothing(vitale_runtime, make, error):
    recorder = HookRecorder.attach(vitale_runtime)
    with pytest.raises(error):
        read_and_dispatch(vitale_runtime, make())
    assert recorder.of("on_card_read") == []
    assert vitale_runtime.host.find_patients(birth_name="ADRUN") == []
    recorder.detach()


def _pulled(card, after):
    transport = DirectTransport(card)
    transport.pull_out_after(after)
    return transport


def test_reads_are_journaled_without_identifiers(vitale_runtime):
    read_and_dispatch(vitale_runtime, DirectTransport(demo_card()))
    with pytest.raises(CardRemovedError):
        read_and_dispatch(vitale_runtime, _pulled(demo_card(), 2))
    records = [r for r in vitale_runtime.journal.records() if r.action == "vitale.card-read"]
    assert [r.outcome for r in records] == ["ok", "error"]
    assert records[1].details["error"] == "CardRemovedError"
    text = repr([r.as_dict() for r in records])
    assert DEMO_CARDHOLDER.nir not in text and "ADRUN" not in text
