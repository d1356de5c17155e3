"""Strict INS traits and the RNIV lexical rules.

The strict traits carried with an INS are the birth name, the list of birth first
names, the first first name (the first of that list), the sex, the birth date (possibly
partial) and the birthplace code (COG commune, or ``99xxx`` for a country).

Names go to INSi and onto the INS datamatrix only in this form:

- uppercase ``A``-``Z``, space, apostrophe ``'`` and hyphen ``-``; accents and ligatures
  are transliterated (``É``→``E``, ``Ç``→``C``, ``Æ``→``AE``, ``Œ``→``OE``, ``ß``→``SS``...);
- characters with no equivalent (digits, ``_``, ``/``, other scripts...) are refused,
  never silently dropped;
- a value neither starts with a space or a hyphen (a leading apostrophe is allowed) nor
  ends with a hyphen; spaces and apostrophes are not doubled nor combined (spaces around
  an apostrophe or a hyphen are removed by normalisation, runs of spaces collapsed);
- a double hyphen ``--`` is allowed in a (birth or used) name, never in a first name;
  a first name does not end with an apostrophe.

Errors name the field and the class of the offending character, never the value.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Iterable

import attrs

from segur_core.errors import IdentityError
from segur_core.model import BirthDate, IdentityTraits

__all__ = [
    "NameKind",
    "StrictTrait",
    "TraitComparison",
    "TraitError",
    "check_birth_place",
    "compare_traits",
    "first_name_candidates",
    "is_foreign_birth_place",
    "normalise_first_name",
    "normalise_name",
    "normalise_traits",
    "parse_birth_date",
]


class TraitError(IdentityError):
    """A trait breaks an RNIV rule; ``field`` names the trait, ``problem`` the rule."""

    def __init__(self, field: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"{field}: {problem}", hint=hint)
        self.field = field
        self.problem = problem


class NameKind(enum.Enum):
    """Which lexical profile applies: a name allows ``--``, a first name does not."""

    NAME = "name"
    FIRST_NAME = "first name"


# Letters that Unicode decomposition does not reduce to A-Z.
_TRANSLITERATION = {
    "Æ": "AE", "æ": "AE", "Œ": "OE", "œ": "OE", "ß": "SS", "ẞ": "SS",
    "Ø": "O", "ø": "O", "Ð": "D", "ð": "D", "Đ": "D", "đ": "D", "Ł": "L", "ł": "L",
    "Þ": "TH", "þ": "TH", "\u0131": "I", "Ħ": "H", "ħ": "H", "Ŧ": "T", "ŧ": "T",
}  # fmt: skip
_APOSTROPHES = frozenset("'\u2019\u2018\u02bc\u02b9\u00b4\u0060\u2032")
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d")
_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ '-")
_AROUND_SEPARATOR = re.compile(r" *([-']) *")
_SPACES = re.compile(r" {2,}")


def _character_class(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Nd" or category.startswith("N"):
        return "a digit or number"
    if category.startswith("L"):
        return "a letter with no A-Z equivalent"
    if category.startswith("P"):
        return "a punctuation mark other than apostrophe and hyphen"
    if category.startswith("S"):
        return "a symbol"
    if category.startswith("C"):
        return "a control or invisible character"
    return "a character outside A-Z, space, apostrophe and hyphen"


@functools.lru_cache(maxsize=4096)
def _map_char(char: str) -> str:
    """The RNIV form of one character (pure: cached, names reuse few characters)."""
    if char in _TRANSLITERATION:
        return _TRANSLITERATION[char]
    if char in _APOSTROPHES:
        return "'"
    if char in _HYPHENS:
        return "-"
    category = unicodedata.category(char)
    if char == "\t" or category == "Zs":
        return " "
    if category[0] in "NC":  # numbers (even roman numerals) and controls stay refused
        return char
    decomposed = "".join(
        c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
    )
    if decomposed != char:
        # the characters of a decomposition are themselves decomposed: one level only
        return "".join(_map_char(c) for c in decomposed)
    return char.upper() if char.isascii() else char


def normalise_name(value: str, field: str = "birth_name", kind: NameKind = NameKind.NAME) -> str:
    """Normalise one name to the RNIV lexical rules, or raise :class:`TraitError`.

    Idempotent: a normalised value normalises to itself.
    """
    if not isinstance(value, str):
        raise TraitError(field, "must be text")
    text, problem, hint = _normal_form(value, kind)
    if problem is not None:
        raise TraitError(field, problem, hint=hint)
    return text


def normalise_first_name(value: str, field: str = "first_name") -> str:
    """Normalise one first name (no double hyphen, no trailing apostrophe)."""
    return normalise_name(value, field, NameKind.FIRST_NAME)


_Form = tuple[str, str | None, str | None]  # the text, or the broken rule and a hint


@functools.lru_cache(maxsize=8192)
def _normal_form(value: str, kind: NameKind) -> _Form:
    """The normal form of ``value``, or the rule it breaks. Pure, hence cached: a
    qualification normalises the same names several times (the search, the status
    machine, the comparison of stored and found traits)."""
    if _ALLOWED.issuperset(value):  # already A-Z, space, ' and -: each maps to itself
        text = value
    else:
        text = "".join(map(_map_char, value))
        for char in text:
            if char not in _ALLOWED:
                return (
                    "",
                    f"contains {_character_class(char)}, which the RNIV lexical rules refuse",
                    "use only letters A-Z, space, apostrophe and hyphen",
                )
    text = _SPACES.sub(" ", text).strip(" ")
    text = _AROUND_SEPARATOR.sub(r"\1", text)
    return (text, *_structure_problem(text, kind))


def _structure_problem(text: str, kind: NameKind) -> tuple[str | None, str | None]:
    """The structural rule ``text`` breaks and a hint, or ``(None, None)``."""
    if not any("A" <= char <= "Z" for char in text):
        return "must contain at least one letter", None
    if text[0] == "-":
        return "cannot start with a hyphen", None
    if text[-1] == "-":
        return "cannot end with a hyphen", None
    if kind is NameKind.FIRST_NAME and text[-1] == "'":
        return "a first name cannot end with an apostrophe", None
    if "''" in text:
        return "cannot contain a doubled apostrophe", None
    if "-'" in text or "'-" in text:
        return "cannot combine a hyphen and an apostrophe", None
    if "---" in text:
        return "cannot contain more than two hyphens in a row", None
    if kind is NameKind.FIRST_NAME and "--" in text:
        return (
            "a double hyphen is allowed in a name, not in a first name",
            "use a single hyphen between the parts of a compound first name",
        )
    return None, None


_BIRTH_PLACE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


def check_birth_place(code: str, field: str = "birth_place") -> str:
    """Check a birthplace code: 5-character COG commune (``2A``/``2B`` for Corsica) or
    ``99`` + INSEE country code for a birth abroad. Returns it uppercased."""
    if not isinstance(code, str):
        raise TraitError(field, "must be text")
    value = code.strip().upper()
    if not _BIRTH_PLACE.match(value):
        raise TraitError(
            field,
            "must be a 5-character INSEE code (digits, 2A/2B for Corsica, 99xxx abroad)",
        )
    return value


def is_foreign_birth_place(code: str) -> bool:
    """Whether a (checked) birthplace code designates a country (``99xxx``)."""
    return code.startswith("99")


def parse_birth_date(text: str, field: str = "birth_date") -> BirthDate:
    """Parse ``YYYY-MM-DD`` with ``00`` for an unknown month/day into a :class:`BirthDate`."""
    try:
        return BirthDate.parse(text)
    except (ValueError, TypeError, AttributeError):
        raise TraitError(
            field,
            "must be a date YYYY-MM-DD (00 for an unknown month or day) that exists",
        ) from None


def normalise_traits(traits: IdentityTraits) -> IdentityTraits:
    """The same traits normalised to the RNIV lexical rules (idempotent)."""
    birth_name = normalise_name(traits.birth_name, "birth_name")
    first_names = tuple(
        normalise_first_name(name, f"first_names[{index}]")
        for index, name in enumerate(traits.first_names)
    )
    birth_place = None if traits.birth_place in (None, "") else check_birth_place(
        traits.birth_place)  # fmt: skip
    used_name = normalise_name(traits.used_name, "used_name") if traits.used_name else None
    used_first_name = (
        normalise_first_name(traits.used_first_name, "used_first_name")
        if traits.used_first_name
        else None
    )
    return attrs.evolve(
        traits,
        birth_name=birth_name,
        first_names=first_names,
        birth_place=birth_place,
        used_name=used_name,
        used_first_name=used_first_name,
    )


# -- comparison ----------------------------------------------------------------------------


class StrictTrait(enum.StrEnum):
    """The strict INS traits, in the order they are listed to the pharmacist."""

    BIRTH_NAME = "birth_name"
    FIRST_NAMES = "first_names"
    FIRST_NAME = "first_name"
    SEX = "sex"
    BIRTH_DATE = "birth_date"
    BIRTH_PLACE = "birth_place"


@attrs.frozen
class TraitComparison:
    """Which strict traits differ between a stored identity and a found one.

    Holds trait names only, never values, so it can be journaled and logged.
    """

    differences: tuple[StrictTrait, ...] = ()

    @property
    def matches(self) -> bool:
        return not self.differences

    def __contains__(self, trait: object) -> bool:
        return trait in self.differences


def _or_raw(normalise, value):  # a stored value breaking the rules compares as stored
    try:
        return normalise(value)
    except IdentityError:
        return value


def _comparable(traits: IdentityTraits) -> tuple[str, tuple[str, ...], str | None]:
    name = _or_raw(normalise_name, traits.birth_name)
    firsts = " ".join(_or_raw(normalise_first_name, first) for first in traits.first_names)
    place = _or_raw(check_birth_place, traits.birth_place) if traits.birth_place else None
    return name, tuple(firsts.split()), place


def compare_traits(stored: IdentityTraits, found: IdentityTraits) -> TraitComparison:
    """Compare two trait sets on the strict traits, after normalisation.

    First names are compared as the space-separated list INSi returns
    (``("JEAN PIERRE",)`` equals ``("JEAN", "PIERRE")``); the first first name is the
    first token of that list.
    """
    name_a, firsts_a, place_a = _comparable(stored)
    name_b, firsts_b, place_b = _comparable(found)
    checks = (
        (StrictTrait.BIRTH_NAME, name_a == name_b),
        (StrictTrait.FIRST_NAMES, firsts_a == firsts_b),
        (StrictTrait.FIRST_NAME, firsts_a[:1] == firsts_b[:1]),
        (StrictTrait.SEX, stored.sex == found.sex),
        (StrictTrait.BIRTH_DATE, stored.birth_date == found.birth_date),
        (StrictTrait.BIRTH_PLACE, place_a == place_b),
    )
    return TraitComparison(tuple(trait for trait, same in checks if not same))


# -- INSi search strategy ------------------------------------------------------------------


def first_name_candidates(first_names: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """The first names to send, one INSi traits search per candidate, in order.

    One search per birth first name (each alone, in the order of the list), then one
    with the whole list; the caller stops at the first search that finds exactly one
    identity or fails technically. Duplicates are searched once; a single first name
    gives a single candidate. Names are normalised first.
    """
    names = tuple(
        normalise_first_name(name, f"first_names[{index}]")
        for index, name in enumerate(first_names)
    )
    candidates: list[tuple[str, ...]] = []
    for name in names:
        if (name,) not in candidates:
            candidates.append((name,))
    if len(names) > 1 and names not in candidates:
        candidates.append(names)
    return tuple(candidates)
