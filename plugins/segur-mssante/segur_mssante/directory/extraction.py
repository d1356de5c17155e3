"""The "Extraction correspondance MSSanté" open-data file: its 31 columns, one row read
into an :class:`Entry`, the whole file read as a stream.

The file (reference ``mssante.md`` §4, §6.5) is UTF-8 text, ``|``-separated, one header
line, about 536,000 rows, with no dates and no stable id: the mailbox address is the key.
The address columns carry the suffix `` structure BAL`` in the real header
(``L2COMPLEMENTLOCALISATION structure BAL``...); a header with or without it is accepted.
A row that cannot be read (wrong column count, bad UTF-8, no address) is a :class:`BadRow`,
counted and reported by line number, never fatal and never quoted (it names people).
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import attrs

from segur_mssante.directory.errors import DirectoryError, HeaderError

__all__ = [
    "COLUMNS",
    "SEPARATOR",
    "BadRow",
    "Entry",
    "check_header",
    "parse_row",
    "read_extraction",
]

SEPARATOR = "|"

#: (header of the column in the file, field of :class:`Entry`), in the file's order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Type de BAL", "kind"),
    ("Adresse BAL", "mssante_address"),
    ("Type Identifiant PP", "pp_id_type"),
    ("Identifiant PP", "pp_id"),
    ("Identification nationale PP", "national_pp_id"),
    ("Type identifiant structure", "structure_id_type"),
    ("Identification Structure", "structure_id"),
    ("Service de rattachement", "service"),
    ("Civilité d'exercice", "civility"),
    ("Nom d'exercice", "family_name"),
    ("Prénom d'exercice", "first_name"),
    ("Catégorie profession", "profession_category"),
    ("Libellé de catégorie profession", "profession_category_label"),
    ("Code Profession", "profession_code"),
    ("Libellé Profession", "profession_label"),
    ("Code savoir-faire", "specialty_code"),
    ("Libellé savoir-faire", "specialty_label"),
    ("Dématérialisation", "dematerialisation"),
    ("Raison Sociale structure BAL", "organisation"),
    ("Enseigne commerciale structure BAL", "trade_name"),
    ("L2COMPLEMENTLOCALISATION structure BAL", "line2"),
    ("L3COMPLEMENTDISTRIBUTION structure BAL", "line3"),
    ("L4NUMEROVOIE structure BAL", "street_number"),
    ("L4COMPLEMENTNUMEROVOIE structure BAL", "street_number_suffix"),
    ("NL4TYPEVOIE structure BAL", "street_type"),
    ("L4LIBELLEVOIE structure BAL", "street"),
    ("L5LIEUDITMENTION structure BAL", "line5"),
    ("L6LIGNEACHEMINEMENT structure BAL", "line6"),
    ("Code postal structure BAL", "postal_code"),
    ("Département structure BAL", "department"),
    ("Pays structure BAL", "country"),
)
_SUFFIX = " structure BAL"
#: Columns the header may name without their suffix (the address block).
_SUFFIX_OPTIONAL = frozenset(range(20, 31))


@attrs.frozen
class Entry:
    """One mailbox of the directory: the file's 31 columns, as text ("" when empty).

    Personal mailboxes name a professional: the name fields and the address stay out of
    the repr."""

    kind: str
    mssante_address: str = attrs.field(repr=False)
    pp_id_type: str
    pp_id: str
    national_pp_id: str
    structure_id_type: str
    structure_id: str
    service: str
    civility: str = attrs.field(repr=False)
    family_name: str = attrs.field(repr=False)
    first_name: str = attrs.field(repr=False)
    profession_category: str
    profession_category_label: str
    profession_code: str
    profession_label: str
    specialty_code: str
    specialty_label: str
    dematerialisation: str
    organisation: str
    trade_name: str
    line2: str
    line3: str
    street_number: str
    street_number_suffix: str
    street_type: str
    street: str
    line5: str
    line6: str
    postal_code: str
    department: str
    country: str

    @property
    def key(self) -> str:
        """The directory's key: the address, case-folded (the file has no other id)."""
        return self.mssante_address.casefold()

    def values(self) -> tuple[str, ...]:
        """The 31 columns, in the file's order."""
        return _VALUES(self)

    def digest(self) -> bytes:
        """A 16-byte fingerprint of the row, to tell a changed row from an unchanged one."""
        return hashlib.blake2b("\x1f".join(self.values()).encode(), digest_size=16).digest()


#: The 31 fields of an entry in one C call (``attrs.astuple`` costs seven times as much).
_VALUES = operator.attrgetter(*(field for _header, field in COLUMNS))


@attrs.frozen
class BadRow:
    """A row that could not be read: its line number (1 is the header) and why
    (``"columns"``, ``"encoding"``, ``"address"``). Its content is not kept."""

    line: int
    reason: str


def check_header(line: bytes) -> None:
    """Raise :class:`HeaderError` naming the first column of ``line`` that is not the
    extraction's."""
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HeaderError(
            "the header is not UTF-8", column=1, hint="give the .txt extraction as published"
        ) from None
    names = [name.strip() for name in text.rstrip("\r\n").split(SEPARATOR)]
    for position, (expected, _field) in enumerate(COLUMNS):
        found = names[position] if position < len(names) else None
        accepted = {expected}
        if position in _SUFFIX_OPTIONAL:
            accepted.add(expected.removesuffix(_SUFFIX))
        if found not in accepted:
            what = "missing" if found is None else f"is {_shown(found)}"
            raise HeaderError(
                f"not an MSSanté directory extraction: column {position + 1} "
                f"should be {expected!r}, {what}",
                column=position + 1,
                hint="expected the 31-column '|'-separated 'Extraction correspondance MSSanté'",
            )
    if len(names) > len(COLUMNS):
        raise HeaderError(
            f"not an MSSanté directory extraction: {len(names)} columns, expected "
            f"{len(COLUMNS)} (column {len(COLUMNS) + 1} is {_shown(names[len(COLUMNS)])})",
            column=len(COLUMNS) + 1,
        )


def _shown(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:57] + "...")


def parse_row(line: bytes, number: int = 0) -> Entry | BadRow:
    """Read one data line (with or without its end of line) into an :class:`Entry`, or
    a :class:`BadRow` saying why not; never raises."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return BadRow(number, "encoding")
    cells = text.rstrip("\r\n").split(SEPARATOR)
    if len(cells) != len(COLUMNS):
        return BadRow(number, "columns")
    cells = [cell.strip() for cell in cells]
    if not cells[1] or any(c.isspace() for c in cells[1]):
        return BadRow(number, "address")
    return Entry(*cells)


def read_extraction(stream: BinaryIO | Iterable[bytes]) -> Iterator[Entry | BadRow]:
    """The rows of an extraction, one at a time (the file is never held in memory);
    blank lines are skipped. Raises :class:`HeaderError` before the first row when the
    header is not the extraction's, :class:`DirectoryError` when the file is empty."""
    lines = iter(stream)
    header = next(lines, None)
    if header is None:
        raise DirectoryError("the directory file is empty")
    check_header(header)
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        yield parse_row(line, number)
