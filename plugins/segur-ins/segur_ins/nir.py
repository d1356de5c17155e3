"""NIR and NIA: the 15-character INS matricule (13 characters and a 2-digit key).

The key is ``97 - (N mod 97)`` where ``N`` is the 13-character body read as an integer
after replacing the Corsican départements ``2A``/``2B`` by ``19``/``18``. The key
itself is computed by :mod:`stdnum.fr.nir` (python-stdnum); this module adds what a
pharmacy needs on top of it:

- a value type split into parts (:class:`Nir`) and errors that name the part that is
  wrong without ever echoing the number (error messages end up in logs);
- the overseas layout: départements ``97x``/``98x`` take three characters and leave
  two for the commune (stdnum only handles the key);
- the first digit: ``1``/``2`` (male/female) for an ordinary NIR, ``7``/``8`` for a
  temporary number being registered (an unofficial source, see the reference),
  ``3``/``4`` accepted but not interpreted beyond the sex parity. ``0``, ``5``, ``6``
  and ``9`` are refused;
- NIR and NIA share this layout and key: the kind of a matricule is told by the INS
  OID (:mod:`segur_ins.oids`), never by its first digit (the CNDA NIA test person
  starts with ``1``);
- the month stays permissive (two digits): registers use 20-42 and 50+ for incomplete
  birth records, so a month above 12 is kept but never read as a birth month;
- ``verify_key=False`` parses a server-provided matricule whose key does not check
  (one CNDA test response does this) so that a client reports rather than rejects it;
- :func:`mask` shows a matricule on a screen or in a timeline without its identifying
  digits (the demo and the commands print it this way).
"""

from __future__ import annotations

import re

import attrs
from stdnum.fr import nir as _stdnum_nir

from segur_core.errors import IdentityError
from segur_core.model import Sex, mask_matricule
from segur_ins.i18n import _

__all__ = ["Nir", "NirError", "compute_key", "is_valid", "mask"]

_SEPARATORS = re.compile(r"[\s.]+")
_SEX_DIGITS = {"1": Sex.MALE, "2": Sex.FEMALE, "3": Sex.MALE, "4": Sex.FEMALE,
               "7": Sex.MALE, "8": Sex.FEMALE}  # fmt: skip
_TEMPORARY_DIGITS = frozenset("78")


class NirError(IdentityError):
    """A NIR/NIA is malformed; ``part`` names the wrong part (``length``, ``sex``,
    ``year``, ``month``, ``department``, ``commune``, ``order``, ``key``)."""

    def __init__(self, message: str, *, part: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.part = part


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def compute_key(body: str) -> str:
    """The 2-digit key of a 13-character NIR/NIA body (``2A``/``2B`` allowed)."""
    if (
        len(body) != 13
        or not _digits(body[:5] + body[7:])
        or not (_digits(body[5:7]) or body[5:7] in ("2A", "2B"))
    ):
        raise NirError(_("a NIR body is 13 digits (2A/2B allowed for Corsica)"), part="length")
    return _stdnum_nir.calc_check_digits(body)


def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise NirError(_("a NIR must be given as text"), part="length")
    return _SEPARATORS.sub("", text).upper()


@attrs.frozen(repr=False)
class Nir:
    """A NIR or NIA split into its parts. ``str()`` gives the compact 15 characters,
    ``format(nir, " ")`` the grouped form ``1 80 03 2B 020 401 23``."""

    sex_digit: str
    year: str
    month: str
    department: str  # 2 characters, or 3 for overseas (97x, 98x)
    commune: str  # 3 characters, or 2 for overseas
    order: str
    key: str

    @classmethod
    def parse(cls, text: str, *, verify_key: bool = True) -> Nir:
        """Parse a NIR/NIA; spaces and dots are ignored. Raises :class:`NirError`."""
        value = _clean(text)
        if len(value) != 15:
            raise NirError(
                _("a NIR has 15 characters (13 and a 2-digit key), this one has {n}").format(
                    n=len(value)
                ),
                part="length",
                hint=_("check that no digit is missing or doubled"),
            )
        sex, year, month = value[0], value[1:3], value[3:5]
        place, order, key = value[5:10], value[10:13], value[13:15]
        if sex not in _SEX_DIGITS:
            message = (
                _("the first character (sex) must be 1, 2, 3, 4, 7 or 8; it is a digit")
                if _digits(sex)
                else _("the first character (sex) must be 1, 2, 3, 4, 7 or 8; it is not a digit")
            )
            raise NirError(message, part="sex")
        for part, chunk, message in (
            ("year", year, _("the year of birth (2 characters) must be digits")),
            ("month", month, _("the month of birth (2 characters) must be digits")),
        ):
            if not _digits(chunk):
                raise NirError(message, part=part)
        department, commune = (
            (place[:3], place[3:]) if place[:2] in ("97", "98") else (place[:2], place[2:])
        )
        if not (_digits(department) or department in ("2A", "2B")):
            raise NirError(
                _("the département must be 2 digits, or 2A/2B for Corsica"),
                part="department",
            )
        if not _digits(commune):
            raise NirError(_("the commune code must be digits"), part="commune")
        if not _digits(order):
            raise NirError(_("the order number (3 characters) must be digits"), part="order")
        if not _digits(key):
            raise NirError(_("the key (last 2 characters) must be digits"), part="key")
        nir = cls(sex, year, month, department, commune, order, key)
        if verify_key and not nir.key_ok:
            raise NirError(
                _("the key does not match the number"),
                part="key",
                hint=_("a character was probably mistyped; read the number again"),
            )
        return nir

    @property
    def body(self) -> str:
        """The 13 characters before the key."""
        return f"{self.sex_digit}{self.year}{self.month}{self.department}{self.commune}{self.order}"

    @property
    def expected_key(self) -> str:
        return compute_key(self.body)

    @property
    def key_ok(self) -> bool:
        return self.key == self.expected_key

    @property
    def sex(self) -> Sex:
        return _SEX_DIGITS[self.sex_digit]

    @property
    def temporary(self) -> bool:
        """A temporary number (first digit 7 or 8) awaiting a definitive NIR."""
        return self.sex_digit in _TEMPORARY_DIGITS

    @property
    def birth_place(self) -> str:
        """The 5-character place code (COG commune, or ``99`` + country code)."""
        return self.department + self.commune

    @property
    def born_abroad(self) -> bool:
        return self.department == "99"

    @property
    def birth_month(self) -> int | None:
        """The month of birth, or ``None`` when the register did not know it (> 12, 00)."""
        month = int(self.month)
        return month if 1 <= month <= 12 else None

    def __str__(self) -> str:
        return self.body + self.key

    def __format__(self, spec: str) -> str:
        """``format(nir)`` is ``str(nir)``; any other spec is the group separator."""
        if not spec:
            return str(self)
        groups = (self.sex_digit, self.year, self.month, self.department, self.commune,
                  self.order, self.key)  # fmt: skip
        return spec.join(groups)

    def __repr__(self) -> str:  # never print a patient identifier by accident
        return "Nir(<15 chars>)"


def is_valid(text: str) -> bool:
    """Whether ``text`` is a well-formed NIR/NIA whose key checks."""
    try:
        Nir.parse(text)
    except IdentityError:
        return False
    return True


#: A matricule for display: sex, year and month of birth and key only (the core's rule).
mask = mask_matricule
