"""The spool keeps what an export appends, in order, whatever reads come in between
(appends follow each other without a seek: a seek flushes the file's buffer)."""

from __future__ import annotations

import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st
from segur_portability.spool import Spool, spooled_zip


@settings(max_examples=50, deadline=None)
@given(steps=st.lists(st.one_of(st.binary(max_size=64), st.none()), max_size=40))
def test_values_come_back_in_order_across_reads(steps, tmp_path_factory):
    """``None`` reads everything back so far; anything else is appended."""
    kept: list[bytes] = []
    with Spool[bytes](tmp_path_factory.mktemp("spool")) as spool:
        for step in steps:
            if step is None:
                assert list(spool) == kept
                assert list(spool) == kept  # as often as needed
            else:
                spool.append(step)
                kept.append(step)
        assert len(spool) == len(kept)
        assert list(spool) == kept


def test_a_spooled_zip_lists_every_member(tmp_path):
    with (tmp_path / "a.zip").open("wb") as raw, spooled_zip(raw, tmp_path) as archive:
        for n in range(300):
            archive.writestr(f"M{n:04d}", b"x" * n)
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.namelist() == [f"M{n:04d}" for n in range(300)]
        assert archive.read("M0299") == b"x" * 299
