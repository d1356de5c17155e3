"""``--since`` values (segur_core.cli.params.moment): an aware date-time or a clear refusal."""

import datetime as dt

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segur_core.cli.params import moment


def test_a_date_without_zone_is_utc_and_a_zone_is_kept():
    assert moment("2026-12-02") == dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    paris = moment("2026-12-02T10:00:00+01:00")
    assert paris is not None and paris.utcoffset() == dt.timedelta(hours=1)
    assert moment(None) is None


def test_anything_else_is_a_bad_parameter_naming_the_value():
    with pytest.raises(click.BadParameter, match="yesterday"):
        moment("yesterday")


@given(st.text(max_size=40))
def test_any_text_is_an_aware_moment_or_a_bad_parameter(text):
    try:
        value = moment(text)
    except click.BadParameter:
        return
    assert value is not None and value.tzinfo is not None
