"""XDS times written field by field read as ``strftime`` wrote them (years before 1000
included, which ``strftime`` does not pad), from a datetime or from an HL7 TS."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from segur_core.xds.metadata import xds_time

_ZONES = st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23)).map(
    lambda delta: dt.timezone(dt.timedelta(minutes=delta // dt.timedelta(minutes=1)))
)
_SAFE = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))


@given(_SAFE, _ZONES)
def test_a_datetime_reads_as_strftime(moment, zone):
    aware = moment.replace(tzinfo=zone)
    assert xds_time(aware) == aware.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


@given(_SAFE, st.sampled_from(["+0100", "-0930", "+0000", "+1400"]))
def test_a_ts_with_an_offset_reads_as_strftime(moment, offset):
    digits = f"{moment.year:04d}" + moment.strftime("%m%d%H%M%S")
    zone = dt.datetime.strptime(offset, "%z").tzinfo
    expected = moment.replace(tzinfo=zone).astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    assert xds_time(digits + offset) == expected
