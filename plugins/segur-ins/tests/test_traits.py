"""Strict INS traits, RNIV lexical rules, comparison and the first-name strategy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from segur_ins.traits import (
    StrictTrait,
    TraitError,
    check_birth_place,
    compare_traits,
    first_name_candidates,
    is_foreign_birth_place,
    normalise_first_name,
    normalise_name,
    normalise_traits,
    parse_birth_date,
)

from segur_core.errors import IdentityError
from segur_core.model import BirthDate, IdentityTraits, Sex

ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ '-")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Dupont", "DUPONT"),
        ("  Ébène  d' Arc ", "EBENE D'ARC"),
        ("Lætitia", "LAETITIA"),
        ("Œdipe", "OEDIPE"),
        ("Straße", "STRASSE"),
        ("François", "FRANCOIS"),
        ("O\u2019Neil", "O'NEIL"),  # typographic apostrophe
        ("Jean \u2010 Pierre", "JEAN-PIERRE"),  # Unicode hyphen, spaces around it
        ("de\u00a0la\tFontaine", "DE LA FONTAINE"),
        ("Øster", "OSTER"),
        ("Łukasz", "LUKASZ"),
        ("'T HOOFT", "'T HOOFT"),  # a leading apostrophe is allowed
        ("MARTIN--DURAND", "MARTIN--DURAND"),  # double hyphen in a name
        ("\uff24\uff35\uff30\uff2f\uff2e\uff34", "DUPONT"),  # full-width letters
    ],
)
def test_name_normalisation(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("DUPONT2", "digit"),
        ("DU_PONT", "punctuation"),
        ("DU/PONT", "punctuation"),
        ("ДМИТРИЙ", "no A-Z equivalent"),
        ("DUPONT\u20ac", "symbol"),
        ("DU\nPONT", "control"),
        ("Ⅳ", "digit or number"),
        ("-DUPONT", "start with a hyphen"),
        ("DUPONT-", "end with a hyphen"),
        ("D''ARC", "doubled apostrophe"),
        ("D'-ARC", "hyphen and an apostrophe"),
        ("A---B", "more than two hyphens"),
        ("   ", "at least one letter"),
        ("'", "at least one letter"),
        ("", "at least one letter"),
    ],
)
def test_name_rejections_name_the_field_and_class(raw: str, problem: str) -> None:
    with pytest.raises(TraitError) as caught:
        normalise_name(raw, "birth_name")
    assert caught.value.field == "birth_name"
    assert problem in caught.value.problem
    assert str(caught.value).startswith("birth_name: ")


def test_first_name_rules() -> None:
    assert normalise_first_name("jean-pierre") == "JEAN-PIERRE"
    with pytest.raises(TraitError, match="double hyphen"):
        normalise_first_name("JEAN--PIERRE")
    with pytest.raises(TraitError, match="apostrophe"):
        normalise_first_name("JEAN'")
    assert normalise_name("DELL'", "birth_name") == "DELL'"  # only first names forbid it


@given(st.text(max_size=40))
def test_normalisation_is_idempotent_with_a_closed_alphabet(raw: str) -> None:
    for normalise in (normalise_name, normalise_first_name):
        try:
            once = normalise(raw)
        except TraitError:
            continue
        assert normalise(once) == once
        assert set(once) <= ALPHABET
        assert once[0] not in " -" and once[-1] not in " -"
        for forbidden in ("  ", "''", " '", "' ", "- ", " -", "-'", "'-", "---"):
            assert forbidden not in once
        if normalise is normalise_first_name:
            assert "--" not in once and not once.endswith("'")


@given(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=6, max_size=20), st.sampled_from("0_/#@"))
def test_errors_never_echo_the_value(name: str, bad: str) -> None:
    value = name[:3] + bad + name[3:]
    with pytest.raises(TraitError) as caught:
        normalise_name(value, "birth_name")
    message = str(caught.value)
    assert name not in message and value not in message and name[:5] not in message


@pytest.mark.parametrize("code", ["63220", "2A020", "2b020", "97411", "99100", " 99350 "])
def test_birth_places(code: str) -> None:
    assert check_birth_place(code) == code.strip().upper()


@pytest.mark.parametrize("code", ["6322", "632200", "2C020", "2AB20", "A3220", "63 20", ""])
def test_bad_birth_places(code: str) -> None:
    with pytest.raises(TraitError, match="birth_place"):
        check_birth_place(code)


def test_foreign_birth_place() -> None:
    assert is_foreign_birth_place("99100") and not is_foreign_birth_place("63220")


def test_partial_birth_dates() -> None:
    assert parse_birth_date("1980-00-00") == BirthDate(1980)
    assert parse_birth_date("1980-03-00") == BirthDate(1980, 3)
    assert parse_birth_date("1980-03-00").is_partial
    for bad in ("1980-00-12", "1980-02-30", "80-03-02", "1980/03/02", "", None):
        with pytest.raises(TraitError) as caught:
            parse_birth_date(bad)  # type: ignore[arg-type]
        assert caught.value.field == "birth_date"


def _traits(**changes) -> IdentityTraits:
    base = {
        "birth_name": "ecetinsi",
        "first_names": ("Pierre-Alain", "Muriel", "Floriant"),
        "sex": "M",
        "birth_date": BirthDate(2009, 7, 14),
        "birth_place": "63220",
    }
    return IdentityTraits(**(base | changes))


def test_normalise_traits() -> None:
    traits = normalise_traits(_traits(used_name="d'Arc", used_first_name="élise"))
    assert traits.birth_name == "ECETINSI"
    assert traits.first_names == ("PIERRE-ALAIN", "MURIEL", "FLORIANT")
    assert traits.first_name == "PIERRE-ALAIN"
    assert (traits.used_name, traits.used_first_name) == ("D'ARC", "ELISE")
    with pytest.raises(TraitError) as caught:
        normalise_traits(_traits(first_names=("JEAN", "PAUL2")))
    assert caught.value.field == "first_names[1]"
    with pytest.raises(TraitError) as caught:
        normalise_traits(_traits(birth_place="6322"))
    assert caught.value.field == "birth_place"


def test_compare_traits_lists_strict_differences_only() -> None:
    stored = _traits()
    assert compare_traits(stored, normalise_traits(stored)).matches
    assert compare_traits(stored, _traits(used_name="AUTRE")).matches
    # the list as INSi returns it, one space-separated string, compares equal
    assert compare_traits(stored, _traits(first_names=("PIERRE-ALAIN MURIEL FLORIANT",))).matches
    found = _traits(
        birth_name="ECETINSY", first_names=("PIERRE-ALAIN",), sex=Sex.FEMALE,
        birth_date=BirthDate(2009, 7), birth_place=None,
    )  # fmt: skip
    comparison = compare_traits(stored, found)
    assert comparison.differences == (
        StrictTrait.BIRTH_NAME,
        StrictTrait.FIRST_NAMES,
        StrictTrait.SEX,
        StrictTrait.BIRTH_DATE,
        StrictTrait.BIRTH_PLACE,
    )
    assert StrictTrait.FIRST_NAME not in comparison
    other_first = compare_traits(
        stored, _traits(first_names=("MURIEL", "PIERRE-ALAIN", "FLORIANT"))
    )
    assert other_first.differences == (StrictTrait.FIRST_NAMES, StrictTrait.FIRST_NAME)
    assert "ECETINSI" not in repr(comparison)


def test_compare_traits_tolerates_stored_values_that_break_the_rules() -> None:
    legacy = _traits(birth_name="ECETINSI2")
    assert compare_traits(legacy, _traits()).differences == (StrictTrait.BIRTH_NAME,)


names = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)


@given(st.lists(names, min_size=1, max_size=5))
def test_first_name_candidates(first_names: list[str]) -> None:
    candidates = first_name_candidates(first_names)
    unique = list(dict.fromkeys(first_names))
    singles = [c for c in candidates if len(c) == 1]
    assert [c[0] for c in singles] == unique
    assert candidates[: len(unique)] == tuple((name,) for name in unique)
    if len(first_names) > 1:
        assert candidates[-1] == tuple(first_names)
        assert len(candidates) == len(unique) + (0 if tuple(first_names) in singles else 1)
    else:
        assert candidates == ((first_names[0],),)


def test_first_name_candidates_normalise_and_refuse() -> None:
    assert first_name_candidates(["Zoé"]) == (("ZOE",),)
    assert first_name_candidates([]) == ()
    with pytest.raises(IdentityError):
        first_name_candidates(["JEAN--PAUL"])


@given(st.builds(
    IdentityTraits,
    birth_name=names,
    first_names=st.lists(names, max_size=3),
    sex=st.sampled_from(Sex),
    birth_date=st.just(BirthDate(1990, 1, 2)),
    birth_place=st.sampled_from([None, "63220", "2A020"]),
))  # fmt: skip
def test_normalised_traits_compare_equal_to_themselves(traits: IdentityTraits) -> None:
    normalised = normalise_traits(traits)
    assert normalise_traits(normalised) == normalised
    assert compare_traits(traits, normalised).matches
