"""Manual entry: the pharmacist types the traits when no card can be read.

The result is a :class:`~segur_core.model.CardReading` with ``source=MANUAL`` that
segur-ins searches in INSi by traits. Only the shape is checked here (required traits
present, a date, a 15-character NIR if given); the RNIV lexical rules belong to segur-ins.
:func:`dispatch_manual` journals the entry and fires ``on_card_read``, as a card read
does (``segur vitale manual`` on the command line).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from segur_core.errors import IdentityError, InputError
from segur_core.model import BirthDate, CardReading, IdentityTraits, ReadingSource, Sex

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["dispatch_manual", "manual_reading"]

_NIR = re.compile(r"^[0-9]{6}[0-9AB][0-9]{8}$")
_PLACE = re.compile(r"^[0-9AB]{5}$")


def manual_reading(
    *,
    birth_name: str,
    first_names: str | Sequence[str],
    sex: Sex | str,
    birth_date: BirthDate | str,
    birth_place: str | None = None,
    nir: str | None = None,
    used_name: str | None = None,
) -> CardReading:
    """A reading from typed traits; raises :class:`IdentityError` on a missing or
    malformed trait (the message names the trait, never its value)."""
    name = (birth_name or "").strip()
    if not name:
        raise IdentityError("birth name is required")
    names = first_names.split() if isinstance(first_names, str) else list(first_names)
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise IdentityError("at least one first name is required")
    try:
        sex_value = Sex(sex)
    except ValueError as error:
        raise IdentityError("sex must be M, F or I") from error
    try:
        date = birth_date if isinstance(birth_date, BirthDate) else BirthDate.parse(birth_date)
    except ValueError as error:
        raise IdentityError("birth date must be YYYY-MM-DD (00 for unknown parts)") from error
    place = birth_place.strip().upper() if birth_place else None
    if place is not None and not _PLACE.fullmatch(place):
        raise IdentityError("birth place must be a 5-character INSEE code")
    number = nir.replace(" ", "").upper() if nir else None
    if number is not None and not _NIR.fullmatch(number):
        raise IdentityError("NIR must be 15 characters (13 + key)")
    traits = IdentityTraits(birth_name=name, first_names=tuple(names), sex=sex_value,
                            birth_date=date, birth_place=place,
                            used_name=used_name.strip() if used_name else None)
    return CardReading(source=ReadingSource.MANUAL, traits=traits, nir=number)


def dispatch_manual(runtime: Runtime, reading: CardReading) -> CardReading:
    """Journal a manual entry (``vitale.manual-entry``: no trait in the details) and fire
    ``on_card_read``, so that segur-ins searches the traits in INSi."""
    if reading.source is not ReadingSource.MANUAL:
        raise InputError("only a manual reading (source=manual) is dispatched here")
    runtime.journal.record("vitale.manual-entry", details={
        "source": reading.source.value, "nir_typed": reading.nir is not None,
        "birth_place_typed": reading.traits.birth_place is not None})
    runtime.card_read(reading)
    return reading
