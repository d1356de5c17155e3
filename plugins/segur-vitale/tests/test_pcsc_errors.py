"""PC/SC return codes become typed errors (needs pyscard, not pcscd)."""

from __future__ import annotations

import pytest
from segur_vitale import pcsc
from segur_vitale.errors import (
    CardAbsentError,
    CardProtocolError,
    CardRemovedError,
    PcscUnavailableError,
    ReaderError,
    ReaderUnavailableError,
)

sc = pytest.importorskip("smartcard.scard", reason="pyscard is not installed")


@pytest.mark.parametrize("code, error", [
    ("SCARD_E_NO_SERVICE", PcscUnavailableError),
    ("SCARD_E_SERVICE_STOPPED", PcscUnavailableError),
    ("SCARD_E_UNKNOWN_READER", ReaderUnavailableError),
    ("SCARD_E_READER_UNAVAILABLE", ReaderUnavailableError),  # reader unplugged
    ("SCARD_E_NO_SMARTCARD", CardAbsentError),
    ("SCARD_W_REMOVED_CARD", CardRemovedError),
    ("SCARD_W_RESET_CARD", CardRemovedError),
    ("SCARD_W_UNRESPONSIVE_CARD", CardProtocolError),
    ("SCARD_E_SHARING_VIOLATION", ReaderError),
])
def test_codes_map_to_typed_errors(code, error):
    with pytest.raises(error) as info:
        pcsc.check(getattr(sc, code), "doing something", reader="R")
    assert str(info.value).startswith("doing something")


def test_success_is_silent():
    pcsc.check(sc.SCARD_S_SUCCESS, "nothing")

