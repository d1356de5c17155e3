"""Hypothesis strategies producing valid inputs of the document builders, and one fixed
sample context (the pharmacy, pharmacist and patient of the ANS examples).

Used by this plugin's tests and benchmark and available to other plugins' tests
(``segur-dmp`` feeding, ``segur-mssante`` attachments). Importing it needs ``hypothesis``.
"""

from __future__ import annotations

import datetime as dt

import phonenumbers
from hypothesis import strategies as st

from segur_core.model import (
    INS,
    Address,
    BirthDate,
    Identity,
    IdentityStatus,
    IdentityTraits,
    Patient,
    Practitioner,
    Sex,
    Structure,
)
from segur_documents import codes
from segur_documents.demo import EXAMPLES_PERSON
from segur_documents.models import (
    BilanMedication,
    DocumentContext,
    Entretien,
    MedicationLine,
    TextSection,
    Vaccination,
    Vaccine,
)

__all__ = [
    "bilans",
    "contents",
    "contexts",
    "emails",
    "entretiens",
    "patients",
    "practitioners",
    "rendering_unavailable",
    "sample_context",
    "sample_patient",
    "sample_pharmacist",
    "sample_structure",
    "structures",
    "typed_phones",
    "vaccinations",
]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_word = st.text(_UPPER, min_size=1, max_size=12)
names = st.builds(lambda a, b: f"{a}-{b}" if b else a, _word, st.one_of(st.none(), _word))
#: Free French text: letters with accents, digits, punctuation, spaces, newlines.
free_text = st.text(
    st.characters(
        codec="utf-8",
        categories=("L", "N", "P", "Zs"),
        exclude_characters="\x85\u2028\u2029",
    ).filter(lambda c: c.isprintable())
    | st.sampled_from("éèàçôÉ'\u2019\n "),
    min_size=0,
    max_size=120,
)
label = free_text.map(str.strip).filter(bool)
days = st.dates(dt.date(2000, 1, 1), dt.date(2035, 12, 31))


def _valid_french(national: str) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.parse(national, "FR"))


@st.composite
def typed_phones(draw) -> tuple[str, str]:
    """A valid metropolitan number as a user types it, and its E.164 form: ``06 12 34 56
    78``, ``06.12.34.56.78``, ``+33 6 12…``, ``0033612…``, ``+33 (0)6 12…``."""
    national = draw(st.from_regex(r"\A0[1-9][0-9]{8}\Z").filter(_valid_french))
    pairs = [national[i : i + 2] for i in range(0, 10, 2)]
    sep = draw(st.sampled_from(["", " ", ".", "-", "  "]))
    rest = sep.join([pairs[0][1], *pairs[1:]])
    typed = draw(
        st.sampled_from(
            [
                sep.join(pairs),
                f"+33{sep or ' '}{rest}",
                f"0033{sep}{rest}",
                f"+33 (0){rest}",
            ]
        )
    )
    padding = st.sampled_from(["", " ", "\t"])
    return draw(padding) + typed + draw(padding), f"+33{national[1:]}"


#: e-mail addresses as users type them (ASCII local part, a dotted domain, any case)
emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.from_regex(r"\A[A-Za-z0-9](?:[A-Za-z0-9._+'&-]{0,20}[A-Za-z0-9])?\Z").filter(
        lambda s: ".." not in s
    ),
    st.from_regex(r"\A[A-Za-z0-9](?:[A-Za-z0-9-]{0,15}[A-Za-z0-9])?\Z"),
    st.sampled_from(["fr", "FR", "com", "org", "re", "gp"]),
)


def _nir(sex: str, year: int, month: int, body: str) -> str:
    first = "1" if sex == "M" else "2"
    digits = f"{first}{year % 100:02d}{month or 99:02d}{body}"
    return digits + f"{97 - int(digits) % 97:02d}"


@st.composite
def patients(draw, *, qualified: bool | None = None) -> Patient:
    """A patient; qualified ones carry an INS (test OID)."""
    sex = draw(st.sampled_from([Sex.MALE, Sex.FEMALE]))
    year = draw(st.integers(1900, 2024))
    month = draw(st.integers(0, 12))
    day = draw(st.integers(1, 28)) if month else 0
    first_names = tuple(draw(st.lists(names, min_size=1, max_size=3)))
    traits = IdentityTraits(
        birth_name=draw(names),
        first_names=first_names,
        sex=sex,
        birth_date=BirthDate(year, month, day),
        birth_place=draw(st.from_regex(r"\A(0[1-9]|[1-8][0-9]|9[0-5]|99)[0-9]{3}\Z")),
        used_name=draw(st.one_of(st.none(), names)),
        used_first_name=draw(st.one_of(st.none(), st.sampled_from(first_names))),
    )
    is_qual = draw(st.booleans()) if qualified is None else qualified
    ins = None
    if is_qual:
        body = draw(st.from_regex(r"\A[0-9]{8}\Z"))
        ins = INS(_nir(sex, year, month, body), "1.2.250.1.213.1.4.10")
    status = (
        IdentityStatus.QUALIFIED
        if is_qual
        else draw(
            st.sampled_from(
                [IdentityStatus.PROVISIONAL, IdentityStatus.VALIDATED, IdentityStatus.RECOVERED]
            )
        )
    )
    return Patient(
        id=draw(st.from_regex(r"\A[A-Z0-9]{1,12}\Z")),
        identity=Identity(traits=traits, status=status, ins=ins),
        phone=draw(st.one_of(st.none(), typed_phones().map(lambda p: p[0]))),
        email=draw(st.one_of(st.none(), emails)),
    )


def structures() -> st.SearchStrategy[Structure]:
    return st.builds(
        Structure,
        finess=st.from_regex(r"\A[0-9]{9}\Z"),
        name=label,
        address=st.builds(
            Address,
            lines=st.lists(label, max_size=2).map(tuple),
            postal_code=st.from_regex(r"\A[0-9]{5}\Z"),
            city=names,
        ),
        phone=st.one_of(st.none(), typed_phones().map(lambda p: p[0])),
        activity_sector=st.sampled_from(sorted(codes.FACILITY_TYPES)),
    )


def practitioners() -> st.SearchStrategy[Practitioner]:
    pharmacist = [c for c in codes.AUTHOR_SPECIALTIES if c.startswith("G15_21")]
    return st.builds(
        Practitioner,
        rpps=st.from_regex(r"\A1[0-9]{10}\Z"),
        family_name=names,
        given_name=names,
        profession=st.just("21"),
        specialty=st.one_of(st.none(), st.sampled_from(pharmacist)),
        title=st.sampled_from([None, "DR", "M", "MME", "PR"]),
    )


@st.composite
def contexts(draw, *, qualified: bool | None = None, replacement: bool | None = None):
    patient = draw(patients(qualified=qualified))
    replaces = draw(st.booleans()) if replacement is None else replacement
    moment = draw(
        st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2035, 1, 1), timezones=st.just(dt.UTC))
    )
    return DocumentContext(
        structure=draw(structures()),
        author=draw(practitioners()),
        patient=patient,
        ins=patient.identity.ins,
        effective_time=moment,
        set_id="2.25.1234567" if replaces else None,
        version=draw(st.integers(2, 9)) if replaces else 1,
        replaces="2.25.7654321" if replaces else None,
        confidentiality=draw(st.sampled_from(["N", "R", "V"])),
    )


def vaccines() -> st.SearchStrategy[Vaccine]:
    return st.builds(
        Vaccine,
        cis=st.from_regex(r"\A6[0-9]{7}\Z"),
        label=label,
        atc=st.sampled_from(["J07AM01", "J07BB02", "J07BX03", "J07AL02", "J07CA09"]),
        atc_label=label,
        cip13=st.one_of(st.none(), st.from_regex(r"\A34009[0-9]{8}\Z")),
    )


def vaccinations() -> st.SearchStrategy[Vaccination]:
    return st.builds(
        Vaccination,
        vaccine=vaccines(),
        lot_number=st.from_regex(r"\A[A-Z0-9]{3,12}\Z"),
        administered_on=days,
        act=st.sampled_from(sorted(codes.ACT_CODES)),
        dose_rank=st.one_of(st.none(), st.integers(1, 6)),
        route=st.one_of(st.none(), st.sampled_from(sorted(codes.ROUTES))),
        site=st.one_of(st.none(), st.sampled_from(sorted(codes.APPROACH_SITES))),
        comment=st.one_of(st.none(), label),
    )


sections = st.lists(st.builds(TextSection, title=label, body=free_text), max_size=3).map(tuple)


def entretiens() -> st.SearchStrategy[Entretien]:
    return st.builds(
        Entretien,
        held_on=days,
        theme=label,
        sections=sections,
        next_appointment=st.one_of(st.none(), days),
    )


def bilans() -> st.SearchStrategy[BilanMedication]:
    lines = st.builds(
        MedicationLine,
        label=label,
        code=st.one_of(st.none(), st.from_regex(r"\A34009[0-9]{8}\Z")),
        dosage=st.one_of(st.none(), label),
        prescriber=st.one_of(st.none(), label),
        comment=st.one_of(st.none(), label),
    )
    return st.builds(
        BilanMedication,
        held_on=days,
        medications=st.lists(lines, max_size=4).map(tuple),
        sections=sections,
        attending_physician=st.one_of(st.none(), label),
    )


def contents() -> st.SearchStrategy:
    """Any content: a vaccination, an entretien or a bilan."""
    return st.one_of(vaccinations(), entretiens(), bilans())


# -- one fixed sample ----------------------------------------------------------------------


def sample_structure() -> Structure:
    """The sample pharmacy (FINESS 750123456, Paris)."""
    return Structure(
        finess="750123456",
        name="Pharmacie du Centre",
        address=Address(lines=("12 rue de la Paix",), postal_code="75002", city="PARIS"),
        phone="0140000000",
    )


def sample_pharmacist() -> Practitioner:
    """The sample pharmacist (Dr Claire DURAND)."""
    return Practitioner(
        rpps="10101010101",
        family_name="DURAND",
        given_name="Claire",
        specialty="G15_21/A",
        title="DR",
    )


def sample_patient(qualified: bool = True) -> Patient:
    """The ANS examples' test person; qualified: with the INS of the examples."""
    traits = EXAMPLES_PERSON
    if qualified:
        identity = Identity(
            traits=traits,
            status=IdentityStatus.QUALIFIED,
            ins=INS("279035121518989", "1.2.250.1.213.1.4.10"),
        )
    else:
        identity = Identity(traits=traits, status=IdentityStatus.PROVISIONAL)
    return Patient(id="P0001", identity=identity)


def sample_context() -> DocumentContext:
    """The sample pharmacist writing for the qualified sample patient on 2024-10-02."""
    patient = sample_patient(True)
    return DocumentContext(
        sample_structure(),
        sample_pharmacist(),
        patient,
        patient.identity.ins,
        effective_time=dt.datetime(2024, 10, 2, 9, 30, tzinfo=dt.UTC),
    )


def rendering_unavailable() -> str | None:
    """Why no rendering can be made here (no display stylesheet, WeasyPrint without its
    system libraries), for a test to skip with; ``None`` when renderings work. Under CI
    (``$CI`` set), whose ``.ci/run`` installs them, missing libraries are an error."""
    import os

    from segur_documents.display import find_stylesheet

    if find_stylesheet() is None:
        return "the kit's display stylesheet (FeuilleDeStyle/CDA-FO.xsl) is not here"
    try:
        import weasyprint  # noqa: F401  (loads Pango)
    except OSError as exc:
        if os.environ.get("CI"):
            raise
        return f"WeasyPrint cannot load its system libraries (Pango): {exc}"
    return None
