"""INS OIDs and the matricule + OID pair."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_ins.nir import NirError
from segur_ins.oids import (
    INS_NIA_OID,
    INS_NIR_DEMO_OID,
    INS_NIR_OID,
    INS_NIR_TEST_OID,
    MatriculeKind,
    environment_of,
    format_cx,
    ins_from,
    kind_of,
    oid_for_environment,
    parse_cx,
    split_matricule,
)

from segur_core.errors import IdentityError
from segur_core.model import INS

from .test_nir import valid_numbers


def test_oid_values_and_meanings() -> None:
    assert INS_NIR_OID == "1.2.250.1.213.1.4.8"
    assert INS_NIA_OID == "1.2.250.1.213.1.4.9"
    assert INS_NIR_TEST_OID == "1.2.250.1.213.1.4.10"
    assert INS_NIR_DEMO_OID == "1.2.250.1.213.1.4.11"
    assert kind_of(INS_NIA_OID) is MatriculeKind.NIA
    # .11 is the demonstration NIR, not a "test NIA"
    assert (kind_of(INS_NIR_DEMO_OID), environment_of(INS_NIR_DEMO_OID)) == ("NIR", "demo")
    assert (kind_of(INS_NIR_TEST_OID), environment_of(INS_NIR_TEST_OID)) == ("NIR", "test")
    assert environment_of(INS_NIR_OID) == environment_of(INS_NIA_OID) == "production"


@pytest.mark.parametrize(
    ("mode", "kind", "oid"),
    [
        ("production", "NIR", INS_NIR_OID),
        ("production", "NIA", INS_NIA_OID),
        ("test", "NIR", INS_NIR_TEST_OID),
        ("test", MatriculeKind.NIA, INS_NIA_OID),
        ("demo", "NIR", INS_NIR_DEMO_OID),
        ("demo", "NIA", INS_NIA_OID),
    ],
)
def test_oid_for_environment(mode: str, kind: str, oid: str) -> None:
    assert oid_for_environment(mode, kind) == oid


@pytest.mark.parametrize(("mode", "kind"), [("prod", "NIR"), ("test", "INS"), ("", "NIR")])
def test_oid_for_environment_refuses_unknowns(mode: str, kind: str) -> None:
    with pytest.raises(IdentityError):
        oid_for_environment(mode, kind)


def test_ins_from_checks_the_pair() -> None:
    ins = ins_from("1 80 03 2B 020 401 23", INS_NIR_OID)
    assert ins == INS("180032B02040123", INS_NIR_OID)
    assert split_matricule(ins) == ("180032B020401", "23")
    # the CNDA NIA person starts with 1: the OID, not the first digit, says NIA
    assert kind_of(ins_from("1090763220888 35", INS_NIA_OID).oid) is MatriculeKind.NIA
    for oid in ("1.2.250.1.213.1.4.12", "1.2.250.1.213.1.4", "", None):
        with pytest.raises(IdentityError):
            ins_from("180032B02040123", oid)  # type: ignore[arg-type]
    with pytest.raises(NirError):
        ins_from("1810363220456 60", INS_NIR_OID)
    assert not ins_from("1810363220456 60", INS_NIR_OID, verify_key=False).matricule.endswith("76")


@given(
    valid_numbers, st.sampled_from([INS_NIR_OID, INS_NIA_OID, INS_NIR_TEST_OID, INS_NIR_DEMO_OID])
)
def test_cx_round_trip(text: str, oid: str) -> None:
    ins = ins_from(text, oid)
    cx = format_cx(ins)
    assert cx == f"{text}^^^&{oid}&ISO^NH"
    assert parse_cx(cx) == ins
    assert text not in repr(ins)


@given(st.text(max_size=60))
def test_parse_cx_garbage_is_a_typed_error(text: str) -> None:
    try:
        ins = parse_cx(text)
    except IdentityError:
        return
    assert format_cx(ins) == text.strip()
