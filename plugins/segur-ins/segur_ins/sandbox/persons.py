"""The people the INSi sandbox knows: the CNDA test persons and generated ones.

The CNDA persons are those of the qualification kit (reference ``ins-insi.md`` §7),
served as the real qualification service serves them — including HERMANN GATIEN, whose
key does not check. :func:`generate_persons` makes any number of further, deterministic
persons with valid NIRs for load tests and benchmarks.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import attrs

from segur_core.model import INS, BirthDate, IdentityTraits, Sex, hidden
from segur_ins.nir import compute_key

__all__ = ["CNDA_PERSONS", "Person", "generate_persons", "person_traits"]

NIR_OID = "1.2.250.1.213.1.4.8"
NIA_OID = "1.2.250.1.213.1.4.9"
TEST_OID = "1.2.250.1.213.1.4.10"


@attrs.frozen
class Person:
    """One person of the sandbox's directory, in INSi's own terms (``TIQ`` values)."""

    birth_name: str = attrs.field(repr=hidden)
    first_names: str = attrs.field(repr=hidden)  # ListePrenom: space separated
    sex: str
    birth_date: str = attrs.field(repr=hidden)
    birth_place: str = attrs.field(repr=hidden)
    matricule: str = attrs.field(repr=hidden)  # 13 characters
    key: str = attrs.field(repr=hidden)
    oid: str = NIR_OID
    history: tuple[tuple[str, str, str | None, str | None], ...] = ()  # (num, key, deb, fin)

    @property
    def nir(self) -> str:
        return self.matricule + self.key

    def traits(self) -> IdentityTraits:
        return person_traits(self)

    def ins(self) -> INS:
        return INS(matricule=self.nir, oid=self.oid)


def person_traits(person: Person) -> IdentityTraits:
    """The person's traits as segur model values."""
    return IdentityTraits(
        birth_name=person.birth_name,
        first_names=tuple(person.first_names.split()),
        sex=Sex(person.sex),
        birth_date=BirthDate.parse(person.birth_date),
        birth_place=person.birth_place,
    )


def _cnda(name, first, sex, date, place, nir, key, oid=NIR_OID, history=()) -> Person:
    return Person(name, first, sex, date, place, nir, key, oid, tuple(history))


#: CNDA qualification persons (TCHITCHI's number is not public: a valid one is made up).
CNDA_PERSONS: tuple[Person, ...] = (
    _cnda("ADRUN", "ZOE", "F", "1975-12-31", "63220", "2751263220749", "74"),
    _cnda("ADRTROIS", "DOMINIQUE", "F", "1997-02-26", "2A020", "297022A020778", "78"),
    _cnda("ADRTROIS", "TOUSSAINT", "M", "1960-01-01", "2B020", "160012B020777", "13"),
    _cnda(
        "ECETINSI", "PIERRE-ALAIN MURIEL FLORIANT", "M", "2009-07-14", "63220",
        "1090763220834", "89",
        history=(("2090763220834", "39", "2019-03-01", "2019-02-28"),
                 ("2090663220123", "55", None, None)),
    ),
    _cnda("CORSE", "ANTHONY", "M", "1980-03-02", "2B020", "180032B020401", "23"),
    _cnda("HERMANN", "GATIEN", "M", "1981-03-24", "63220", "1810363220456", "60"),
    _cnda("PROVISOIRE", "MATRICULE", "M", "2009-07-01", "63220", "1090763220888", "35", NIA_OID),
    _cnda(
        "TCHITCHI", "CATARINA BELLA", "F", "1936-06-21", "63220",
        "2360663220123", compute_key("2360663220123"),
    ),
)

_SYLLABLES = (
    "BA", "BE", "BO", "CA", "CE", "DA", "DI", "DU", "FA", "GA", "GO", "LA", "LE", "LI", "LO",
    "MA", "ME", "MI", "MO", "NA", "NE", "NI", "PA", "PE", "PI", "RA", "RE", "RI", "RO", "SA",
    "SE", "SI", "TA", "TE", "TI", "VA", "VE", "VI", "ZA", "ZE",
)  # fmt: skip
_FIRST = {
    "M": ("JEAN", "PIERRE", "LOUIS", "PAUL", "MARC", "LUC", "HUGO", "LEO", "JULES", "ADAM"),
    "F": ("MARIE", "ANNE", "CLAIRE", "EMMA", "JADE", "LOUISE", "ALICE", "LINA", "ROSE", "CHLOE"),
}
_PLACES = ("63220", "75056", "69123", "13055", "2A004", "2B033", "33063", "59350")


def _birth_name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def generate_persons(count: int, *, seed: int = 1, oid: str = TEST_OID) -> Iterator[Person]:
    """``count`` distinct persons with valid NIRs, the same for the same ``seed``.

    Birth name, first names and birth date together identify each one (so a traits
    search finds exactly one), and NIR order numbers never repeat.
    """
    rng = random.Random(seed)
    seen: set[tuple[str, str]] = set()
    orders: dict[str, int] = {}
    produced = 0
    while produced < count:
        sex = rng.choice("MF")
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(90 * 365))
        name = _birth_name(rng)
        if (name, birth.isoformat()) in seen:
            continue
        seen.add((name, birth.isoformat()))
        names = rng.sample(_FIRST[sex], rng.randint(1, 3))
        place = rng.choice(_PLACES)
        prefix = f"{'1' if sex == 'M' else '2'}{birth:%y%m}{place}"
        orders[prefix] = orders.get(prefix, 0) + 1
        if orders[prefix] > 999:
            continue
        body = f"{prefix}{orders[prefix]:03d}"
        yield Person(
            birth_name=name,
            first_names=" ".join(names),
            sex=sex,
            birth_date=birth.isoformat(),
            birth_place=place,
            matricule=body,
            key=compute_key(body),
            oid=oid,
        )
        produced += 1
