"""History depth per category: defaults (the Ségur year), the legal windows, a depth over
the window refused at config load with the key named, calendar months."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_dp.depth import LEGAL_MONTHS, Category, Depth, months_before

from segur_core.errors import ConfigError


def test_defaults_are_the_legal_windows_and_the_segur_year():
    depth = Depth()
    assert depth.months(Category.ORDINARY) == 12  # "1 an au lieu de 3 mois"
    assert depth.months(Category.BIOLOGICAL) == 36
    assert depth.months(Category.VACCINE) == 21 * 12
    assert LEGAL_MONTHS == {Category.ORDINARY: 12, Category.BIOLOGICAL: 36, Category.VACCINE: 252}


def test_config_reads_the_depth_table(make_segur_runtime):
    runtime = make_segur_runtime(
        autoload=True, plugins=["dp"], config={"dp": {"depth": {"ordinary": 3, "vaccine": 60}}}
    )
    depth = runtime.plugin_config("dp").depth
    assert (depth.ordinary, depth.biological, depth.vaccine) == (3, 36, 60)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"ordinary": 13}, "dp.depth.ordinary"),
        ({"biological": 37}, "dp.depth.biological"),
        ({"vaccine": 253}, "dp.depth.vaccine"),
        ({"ordinary": 0}, "dp.depth.ordinary"),
    ],
)
def test_a_depth_over_the_legal_window_is_refused_naming_the_key(make_segur_runtime, table, key):
    with pytest.raises(ConfigError) as caught:  # at load, before anything runs
        make_segur_runtime(autoload=True, plugins=["dp"], config={"dp": {"depth": table}})
    assert caught.value.key == key
    assert "legal consultation window" in str(caught.value)


def test_capped_and_since():
    depth = Depth().capped(6)
    assert (depth.ordinary, depth.biological, depth.vaccine) == (6, 6, 6)
    assert Depth(ordinary=3).capped(None) == Depth(ordinary=3)
    now = dt.datetime(2026, 12, 31, 10, tzinfo=dt.UTC)
    assert Depth().since(Category.ORDINARY, now) == dt.datetime(2025, 12, 31, 10, tzinfo=dt.UTC)
    assert months_before(now, 10) == dt.datetime(2026, 2, 28, 10, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="legal consultation window"):
        Depth(ordinary=40)


@given(
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.integers(0, 400),
)
def test_months_before_goes_back_whole_months(moment, months):
    before = months_before(moment, months)
    assert (moment.year * 12 + moment.month) - (before.year * 12 + before.month) == months
    assert before <= moment and before.time() == moment.time()
    assert before.day == moment.day or before.day < moment.day
