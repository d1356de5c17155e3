"""How far back the DP history goes, per product category, and the legal windows.

The DP keeps three consultation windows (CNOP, after décret n° 2015-208 and art.
R.1111-20-11 CSP): **12 months** for ordinary medicines, **3 years** for biological
medicines, **21 years** for vaccines. The Ségur wave 1 for pharmacy software asks for a
history of "1 an au lieu de 3 mois" (one year instead of three months). The 2015 text
read at the time said 4 months for ordinary dispensations; whether it was amended since
is not certain, which is why each depth is a setting (``[dp.depth]``), never above the
published window. Pure values: no I/O.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum

import attrs

__all__ = ["LEGAL_MONTHS", "Category", "Depth", "months_before"]


class Category(enum.StrEnum):
    """The DP's product categories, each with its own consultation window."""

    ORDINARY = "ordinary"
    BIOLOGICAL = "biological"
    VACCINE = "vaccine"


#: The consultation window published by the CNOP, in months: the most a depth may be.
LEGAL_MONTHS: dict[Category, int] = {
    Category.ORDINARY: 12,
    Category.BIOLOGICAL: 36,
    Category.VACCINE: 21 * 12,
}


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` minus ``months`` calendar months (the 31st becomes the month's last day)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _within_window(instance: object, attribute: attrs.Attribute, value: int) -> None:
    legal = LEGAL_MONTHS[Category(attribute.name)]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= legal:
        raise ValueError(
            f"must be between 1 and {legal} months (the legal consultation window of the "
            f"DP for {attribute.name} products), got {value!r}"
        )


@attrs.frozen
class Depth:
    """Months of history to read per category (defaults: the full legal windows, which
    gives the Ségur year for ordinary medicines); a depth over its window is refused."""

    ordinary: int = attrs.field(default=LEGAL_MONTHS[Category.ORDINARY], validator=_within_window)
    biological: int = attrs.field(
        default=LEGAL_MONTHS[Category.BIOLOGICAL], validator=_within_window
    )
    vaccine: int = attrs.field(default=LEGAL_MONTHS[Category.VACCINE], validator=_within_window)

    def months(self, category: Category) -> int:
        return int(getattr(self, Category(category).value))

    def capped(self, months: int | None) -> Depth:
        """This depth with no category deeper than ``months`` (``segur dp history
        --months``); ``None`` leaves it as it is."""
        if months is None:
            return self
        return Depth(*(min(months, self.months(c)) for c in Category))

    def since(self, category: Category, now: dt.datetime) -> dt.datetime:
        """The oldest dispensation date of ``category`` to show at ``now``."""
        return months_before(now, self.months(category))
