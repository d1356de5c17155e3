"""Manual entry of the traits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_vitale.manual import manual_reading

from segur_core.errors import IdentityError
from segur_core.model import BirthDate, ReadingSource, Sex


def test_manual_reading():
    reading = manual_reading(birth_name="ADRUN", first_names="ZOE MARIE", sex="F",
                             birth_date="1975-12-31", birth_place="63220",
                             nir="2 75 12 63 220 749 74")
    assert reading.source is ReadingSource.MANUAL and not reading.high_trust
    assert reading.traits.first_names == ("ZOE", "MARIE")
    assert reading.traits.sex is Sex.FEMALE
    assert reading.traits.birth_date == BirthDate(1975, 12, 31)
    assert reading.nir == "275126322074974"


def test_partial_date_and_no_nir():
    reading = manual_reading(birth_name="X", first_names=["Y"], sex=Sex.UNKNOWN,
                             birth_date=BirthDate(1950))
    assert reading.nir is None and reading.traits.birth_date.is_partial


@pytest.mark.parametrize("field, value, message", [
    ("birth_name", " ", "birth name"),
    ("first_names", "", "first name"),
    ("sex", "X", "sex"),
    ("birth_date", "31/12/1975", "birth date"),
    ("birth_date", "1975-02-30", "birth date"),
    ("birth_place", "6322", "birth place"),
    ("nir", "27512632207497", "NIR"),
])
def test_bad_traits(field, value, message):
    traits = dict(birth_name="ADRUN", first_names="ZOE", sex="F", birth_date="1975-12-31")
    traits[field] = value
    with pytest.raises(IdentityError, match=message) as info:
        manual_reading(**traits)
    assert "ADRUN" not in str(info.value)


@given(birth_name=st.text(max_size=30), first_names=st.text(max_size=30),
       sex=st.sampled_from(["M", "F", "I", "X", ""]), birth_date=st.text(max_size=12),
       nir=st.none() | st.text(max_size=20))
def test_manual_entry_is_total(birth_name, first_names, sex, birth_date, nir):
    try:
        reading = manual_reading(birth_name=birth_name, first_names=first_names, sex=sex,
                                 birth_date=birth_date, nir=nir)
    except IdentityError:
        return
    assert reading.traits.birth_name and reading.traits.first_names


def test_dispatch_manual_journals_and_fires_on_card_read(vitale_runtime):
    from segur_vitale.manual import dispatch_manual

    from segur_core.errors import InputError
    from segur_core.model import CardReading
    from segur_core.testing.recorder import HookRecorder

    recorder = HookRecorder.attach(vitale_runtime)
    reading = manual_reading(birth_name="ADRUN", first_names="ZOE", sex="F",
                             birth_date="1975-12-31", nir="275126322074974")
    assert dispatch_manual(vitale_runtime, reading) is reading
    assert recorder.one("on_card_read").kwargs["reading"] is reading
    (record,) = [r for r in vitale_runtime.journal.records()
                 if r.action == "vitale.manual-entry"]
    assert record.details == {"source": "manual", "nir_typed": True,
                              "birth_place_typed": False}
    text = repr(record.as_dict())
    assert "ADRUN" not in text and "275126322074974" not in text
    card = CardReading(source=ReadingSource.VITALE_CARD, traits=reading.traits)
    with pytest.raises(InputError):
        dispatch_manual(vitale_runtime, card)
    assert len(recorder.of("on_card_read")) == 1
    recorder.detach()
