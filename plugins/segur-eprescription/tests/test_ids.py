"""The prescription id from a scanned payload or a typed number."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_eprescription.errors import ScanError
from segur_eprescription.ids import PRESCRIPTION_ID_OID, check_prescription_id, scan

from segur_core.errors import InputError

KIT_ID = "01S2TBPZ2JCNZZYGHZ"  # the kit's eP-MED-DM examples
ids = st.text(alphabet=string.digits + string.ascii_uppercase, min_size=18, max_size=18)


@pytest.mark.parametrize(
    "payload",
    [
        KIT_ID,
        f"  {KIT_ID}\r\n",
        "01s2 tbpz 2jcn zzyg hz",
        "01S2-TBPZ-2JCN-ZZYG-HZ",
        f"urn:oid:{PRESCRIPTION_ID_OID}:{KIT_ID}",
        f"{PRESCRIPTION_ID_OID}^{KIT_ID}",
        f"{KIT_ID}^^^&{PRESCRIPTION_ID_OID}&ISO",
        f"https://eprescription.example/ordonnance/{KIT_ID}",
        f"https://eprescription.example/o?v=2&id={KIT_ID}#x",
        f"V=1;ID={KIT_ID};DATE=20231201",
        f'{{"id": "{KIT_ID}"}}',
        KIT_ID.encode(),
    ],
)
def test_accepted_forms(payload: str | bytes) -> None:
    assert scan(payload) == KIT_ID


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("01S2TBPZ2JCNZZYGH", "has 17"),
        ("01S2TBPZ2JCNZZYGHZZ", "has 19"),
        ("https://example.org/nothing/here", "no prescription id"),
        (f"a={KIT_ID}&b=ABCDEFGHIJKLMNOPQR", "2 different"),
        ("01S2TBPZ\x002JCNZZYGHZ", "control"),
        (b"\xff\xfe", "UTF-8"),
        ("x" * 5000, "longer than"),
    ],
)
def test_garbage_is_a_clear_scan_error(payload: str | bytes, says: str) -> None:
    with pytest.raises(ScanError, match=says) as caught:
        scan(payload)
    assert caught.value.hint


def test_check_shape() -> None:
    assert check_prescription_id(KIT_ID) == KIT_ID
    for bad in ("01s2tbpz2jcnzzyghz", KIT_ID + "A", KIT_ID[:-1] + "é", ""):
        with pytest.raises(ScanError):
            check_prescription_id(bad)


@given(ids)
def test_every_form_of_any_id_gives_it_back(value: str) -> None:
    assert scan(value) == value
    assert scan(" ".join(value[i : i + 4] for i in range(0, 18, 4)).lower()) == value
    assert scan(f"https://ordonnance.example/p?id={value}") == value
    assert scan(f"urn:oid:{PRESCRIPTION_ID_OID}:{value}") == value


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_payload_gives_an_id_of_the_shape_or_a_scan_error(payload: str | bytes) -> None:
    try:
        found = scan(payload)
    except ScanError as exc:
        assert isinstance(exc, InputError) and exc.message
    else:
        assert check_prescription_id(found) == found
