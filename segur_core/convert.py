"""One cattrs converter for every segur value type, to and from JSON/TOML-ready data.

Dates and datetimes become ISO 8601 strings, ``bytes`` base64, enums their value,
frozensets sorted lists, :class:`~segur_core.model.BirthDate` its ``YYYY-MM-DD`` text.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter

from segur_core.model import BirthDate

__all__ = ["converter", "dumps", "loads", "structure", "unstructure"]

T = TypeVar("T")

converter: cattrs.Converter = make_converter()
converter.register_unstructure_hook(BirthDate, str)
converter.register_structure_hook(BirthDate, lambda value, _: BirthDate.parse(value))
converter.register_unstructure_hook(bytes, lambda b: base64.b64encode(b).decode("ascii"))
converter.register_structure_hook(
    bytes, lambda v, _: v if isinstance(v, bytes) else base64.b64decode(v, validate=True)
)
converter.register_unstructure_hook(dt.date, dt.date.isoformat)
converter.register_structure_hook(
    dt.date, lambda v, _: v if isinstance(v, dt.date) else dt.date.fromisoformat(v)
)


def unstructure(value: Any) -> Any:
    """A segur value as plain JSON-ready data."""
    return converter.unstructure(value)


def structure(data: Any, cls: type[T]) -> T:
    """Plain data back into ``cls``; raises ``cattrs`` errors naming the bad field."""
    return converter.structure(data, cls)


def dumps(value: Any, **kwargs: Any) -> str:
    """A segur value as a JSON string."""
    return json.dumps(unstructure(value), ensure_ascii=False, **kwargs)


def loads(text: str | bytes, cls: type[T]) -> T:
    """A JSON string back into ``cls``."""
    return structure(json.loads(text), cls)
