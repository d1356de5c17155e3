"""The carte Vitale identity read and its data model.

:func:`read_vitale` follows the read-only sequence of the reference (§1.3, after
``ukinoki/Rufus`` ``lecteurvitale.cpp``), each step through the T=0 rules of
:func:`~segur_vitale.apdu.exchange`:

1. ``00 A4 00 00 02 3F 00`` SELECT MF (refused → not a carte Vitale, e.g. a CPS);
2. ``00 B0 82 00 00`` READ BINARY short EF 2 → one ``65`` template per holder with
   ``80`` nom, ``81`` prénom, ``82`` date de naissance (ASCII ``YYYYMMDD``);
3. ``00 A4 04 00 0B D2 50 00 00 02 56 49 54 41 4C 45`` SELECT AID VITALE;
4. ``00 B0 82 00 00`` READ BINARY → ``65`` templates with ``93`` NIR (15 ASCII
   characters) in the same order as step 2.

The whole read succeeds or raises a :class:`~segur_core.errors.CardError`: nothing is
returned (hence nothing dispatched or saved) from a partial read.

[UNCERTAIN] items, all from public reverse-engineering, not from GIE SESAM-Vitale:
the text encoding of names (read as ISO-8859-1 here); whether ``93`` is each
beneficiary's own NIR or the insured person's (treated as the beneficiary's own, and
the first holder's as the insured person's NIR); birth dates that are not calendar
dates ("dates lunaires", kept with the unknown part as ``00``); the sex, which the card
does not hold and is taken from the first NIR digit (1/7 male, 2/8 female).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import attrs

from segur_core.model import BirthDate, CardKind, CardReading, IdentityTraits, ReadingSource, Sex
from segur_vitale import apdu, tlv
from segur_vitale.atr import card_kind, check_atr
from segur_vitale.errors import CardDataError, StatusWordError, UnsupportedCardError
from segur_vitale.transport import CardTransport

__all__ = [
    "Beneficiary",
    "VitaleCard",
    "parse_birth_date",
    "parse_holders",
    "parse_nirs",
    "read_vitale",
    "sex_from_nir",
]

TAG_BENEFICIARY = 0x65
TAG_NAME, TAG_FIRST_NAME, TAG_BIRTH_DATE = 0x80, 0x81, 0x82
TAG_NATIONALITY, TAG_NIR = 0x90, 0x93

_NIR = re.compile(r"^[0-9]{6}[0-9AB][0-9]{8}$")
_MAX_BENEFICIARIES = 16


@attrs.frozen
class Beneficiary:
    """One holder of a carte Vitale, as read (``rank`` 1 is the insured person)."""

    rank: int
    birth_name: str
    first_name: str
    birth_date: BirthDate
    nir: str | None = None
    nationality: str | None = None

    def __repr__(self) -> str:  # never print identity data by accident
        return f"Beneficiary(rank={self.rank})"

    @property
    def label(self) -> str:
        """What the pharmacist sees when choosing: ``NAME First (YYYY-MM-DD)``."""
        return f"{self.birth_name} {self.first_name} ({self.birth_date})"


@attrs.frozen
class VitaleCard:
    """A carte Vitale as read: its kind, ATR, reader and beneficiaries in card order."""

    kind: CardKind
    atr: bytes
    beneficiaries: tuple[Beneficiary, ...]
    reader: str | None = None
    read_at: dt.datetime = attrs.Factory(lambda: dt.datetime.now(dt.UTC))

    def __repr__(self) -> str:
        return f"VitaleCard(kind={self.kind.value}, beneficiaries={len(self.beneficiaries)})"

    def reading(self, beneficiary: Beneficiary | int = 1) -> CardReading:
        """The :class:`~segur_core.model.CardReading` of one beneficiary (by rank)."""
        if isinstance(beneficiary, int):
            matches = [b for b in self.beneficiaries if b.rank == beneficiary]
            if not matches:
                raise CardDataError(f"the card has no beneficiary of rank {beneficiary}")
            beneficiary = matches[0]
        insured = self.beneficiaries[0].nir if self.beneficiaries else None
        traits = IdentityTraits(
            birth_name=beneficiary.birth_name,
            first_names=(beneficiary.first_name,),
            sex=sex_from_nir(beneficiary.nir),
            birth_date=beneficiary.birth_date,
        )
        return CardReading(
            source=ReadingSource.VITALE_CARD,
            traits=traits,
            nir=beneficiary.nir,
            insured_nir=insured,
            card_kind=self.kind,
            beneficiary_rank=beneficiary.rank,
            reader=self.reader,
            read_at=self.read_at,
        )

    def readings(self) -> list[CardReading]:
        return [self.reading(b) for b in self.beneficiaries]


def sex_from_nir(nir: str | None) -> Sex:
    """The sex the first NIR digit carries ([UNCERTAIN] for 7/8; unknown otherwise)."""
    if not nir:
        return Sex.UNKNOWN
    return {"1": Sex.MALE, "7": Sex.MALE, "2": Sex.FEMALE, "8": Sex.FEMALE}.get(
        nir[0], Sex.UNKNOWN)


def _text(node: tlv.TLV | None, what: str, rank: int) -> str:
    if node is None:
        raise CardDataError(f"beneficiary {rank}: {what} missing (tag absent)")
    try:
        text = node.value.decode("latin-1")
    except UnicodeDecodeError as error:  # pragma: no cover - latin-1 decodes any byte
        raise CardDataError(f"beneficiary {rank}: {what} is not text") from error
    text = text.strip(" \x00")
    if not text or not text.isprintable():
        raise CardDataError(f"beneficiary {rank}: {what} is empty or not printable")
    return text


def parse_birth_date(raw: bytes) -> BirthDate:
    """``YYYYMMDD`` ASCII → :class:`BirthDate`; a month or day that is not a calendar
    value ("date lunaire") becomes ``00`` (unknown). [UNCERTAIN] rule."""
    text = raw.decode("latin-1").strip()
    if not re.fullmatch(r"[0-9]{8}", text):
        raise CardDataError("birth date is not 8 digits (YYYYMMDD)")
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    if not 1800 <= year < 2200:
        raise CardDataError("birth date year out of range")
    if not 1 <= month <= 12:
        return BirthDate(year)
    try:
        return BirthDate(year, month, day)
    except ValueError:
        return BirthDate(year, month)


def _templates(data: bytes, what: str) -> list[tlv.TLV]:
    objects = tlv.parse(data)
    templates = [obj for obj in objects if obj.tag == TAG_BENEFICIARY]
    if not templates:
        raise CardDataError(f"{what}: no beneficiary template (tag 65)")
    if len(templates) > _MAX_BENEFICIARIES:
        raise CardDataError(f"{what}: more than {_MAX_BENEFICIARIES} beneficiaries")
    return templates


def parse_holders(data: bytes) -> list[tuple[str, str, BirthDate]]:
    """The MF short-EF-2 content → (nom, prénom, date de naissance) per holder."""
    out = []
    for rank, template in enumerate(_templates(data, "civil status file"), start=1):
        name = _text(template.find(TAG_NAME), "name", rank)
        first = _text(template.find(TAG_FIRST_NAME), "first name", rank)
        date_node = template.find(TAG_BIRTH_DATE)
        if date_node is None:
            raise CardDataError(f"beneficiary {rank}: birth date missing (tag absent)")
        out.append((name, first, parse_birth_date(date_node.value)))
    return out


def parse_nirs(data: bytes) -> list[tuple[str | None, str | None]]:
    """The VITALE short-EF-2 content → (NIR, nationalité) per holder, in card order."""
    out: list[tuple[str | None, str | None]] = []
    for rank, template in enumerate(_templates(data, "NIR file"), start=1):
        nir_node = template.find(TAG_NIR)
        nir = None
        if nir_node is not None:
            nir = nir_node.value.decode("latin-1").strip().upper()
            if not _NIR.fullmatch(nir):
                raise CardDataError(f"beneficiary {rank}: NIR is not 15 characters of a NIR")
        nat_node = template.find(TAG_NATIONALITY)
        nationality = nat_node.value.decode("latin-1").strip() if nat_node else None
        out.append((nir, nationality or None))
    return out


def _combine(holders: Sequence[tuple[str, str, BirthDate]],
             nirs: Sequence[tuple[str | None, str | None]]) -> tuple[Beneficiary, ...]:
    if len(holders) != len(nirs):
        raise CardDataError(
            f"the card lists {len(holders)} beneficiaries but {len(nirs)} NIR entries")
    return tuple(
        Beneficiary(rank, name, first, birth, nir, nationality)
        for rank, ((name, first, birth), (nir, nationality))
        in enumerate(zip(holders, nirs, strict=True), start=1)
    )


def read_vitale(transport: CardTransport) -> VitaleCard:
    """Read every beneficiary of the carte Vitale behind ``transport``.

    Raises :class:`UnsupportedCardError` for a CPS or a card refusing SELECT MF, and
    other :class:`~segur_core.errors.CardError` subclasses for a card removed, a wrong
    status word or malformed data.
    """
    atr = transport.atr()
    check_atr(atr)
    kind = card_kind(atr)
    if kind in (CardKind.CPS_3, CardKind.CPS_4):
        raise UnsupportedCardError("this is a CPS, not a carte Vitale", kind=kind,
                                   hint="insert the patient's carte Vitale")
    try:
        apdu.exchange(transport, apdu.SELECT_MF).check(apdu.SELECT_MF)
    except StatusWordError as error:
        raise UnsupportedCardError("the card refuses SELECT MF: not a carte Vitale",
                                   kind=kind, hint="insert a carte Vitale") from error
    civil = apdu.exchange(transport, apdu.READ_BINARY_SFI2).check("READ BINARY (holders)")
    select_app = apdu.select_aid(apdu.AID_VITALE, label="SELECT AID VITALE")
    apdu.exchange(transport, select_app).check(select_app)
    nir_data = apdu.exchange(transport, apdu.READ_BINARY_SFI2).check("READ BINARY (NIR)")
    beneficiaries = _combine(parse_holders(civil), parse_nirs(nir_data))
    if kind is CardKind.UNKNOWN:
        kind = CardKind.VITALE_2  # [INFERRED] it answers the Vitale sequence
    return VitaleCard(kind, atr, beneficiaries, reader=transport.name)
