"""Bounds of the numbers a setting may hold, whoever reads it.

Integers fit a signed 64-bit field (SQLite, C APIs); floats are finite and at most a
billion (durations beyond ~31 years overflow the C time types behind sockets, locks and
``datetime``). ``timeout = nan`` or ``inf`` is refused when the file is loaded, naming the
key, instead of making every later call fail.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from segur_core.errors import ConfigError

__all__ = ["FLOAT_LIMIT", "INT_RANGE", "check_number", "out_of_range", "positive"]

INT_RANGE = (-(2**63), 2**63 - 1)
FLOAT_LIMIT = 1e9


def out_of_range(value: int | float, *, integer: bool) -> str | None:
    """Why a number cannot be used (``nan``, ``inf``, beyond :data:`INT_RANGE` or
    :data:`FLOAT_LIMIT`), or ``None``."""
    if integer:
        if INT_RANGE[0] <= value <= INT_RANGE[1]:
            return None
        return f"expected an int between {INT_RANGE[0]} and {INT_RANGE[1]}"
    if (isinstance(value, int) or math.isfinite(value)) and abs(value) <= FLOAT_LIMIT:
        return None
    shown = value if isinstance(value, float) else "a larger number"
    return f"expected a finite number between -{FLOAT_LIMIT:g} and {FLOAT_LIMIT:g}, got {shown}"


def check_number(value: Any, key: str, *, integer: bool = False) -> int | float:
    """``value`` if it is a number a setting can hold, else :class:`ConfigError` naming
    ``key``: for tables read by hand rather than structured (``[segur.outbox]``)."""
    if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"expected {kind}, got {type(value).__name__}", key=key)
    if problem := out_of_range(value, integer=integer):
        raise ConfigError(problem, key=key)
    return value


def positive(table: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator refusing a number ≤ 0 with :class:`ConfigError` naming the key
    ``table.<field>`` (the plugins' timeouts, concurrencies and sizes)."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value <= 0:
            raise ConfigError(f"must be > 0, got {value}", key=f"{table}.{attribute.name}")

    return check
