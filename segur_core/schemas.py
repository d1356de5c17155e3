"""JSON Schemas of the model's values, as :mod:`segur_core.convert` writes them.

For OpenAPI documents (the host API over HTTP, ``segur serve``): :func:`json_schema`
gives the schema of a type and adds the attrs classes it reaches to ``components``
(``{name: schema}``), referenced as ``#/components/schemas/NAME``. The forms follow the
converter: datetimes and dates ISO 8601 strings, ``bytes`` base64, enums their values,
:class:`~segur_core.model.BirthDate` ``YYYY-MM-DD`` (``00`` for an unknown part),
tuples and frozensets arrays. JSON Schema 2020-12, the dialect of OpenAPI 3.1.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import MutableMapping
from typing import Any

import attrs

from segur_core.model import BirthDate

__all__ = ["REF_PREFIX", "json_schema"]

REF_PREFIX = "#/components/schemas/"

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    bytes: {"type": "string", "contentEncoding": "base64"},
    dt.datetime: {"type": "string", "format": "date-time"},
    dt.date: {"type": "string", "format": "date"},
    BirthDate: {
        "type": "string",
        "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        "description": "YYYY-MM-DD, 00 for an unknown month or day",
    },
    type(None): {"type": "null"},
    typing.Any: {},
}


def json_schema(tp: Any, components: MutableMapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema of ``tp``; attrs classes go to ``components`` and are referenced."""
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"type": "string", "enum": [member.value for member in tp]}
    if isinstance(tp, type) and attrs.has(tp):
        name = tp.__name__
        if name not in components:
            components[name] = {}  # placeholder: a class may reach itself
            components[name] = _object(tp, components)
        return {"$ref": REF_PREFIX + name}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [json_schema(arg, components) for arg in args]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin in (tuple, list, frozenset, set):
        item = args[0] if args else typing.Any
        schema: dict[str, Any] = {"type": "array", "items": json_schema(item, components)}
        if origin in (frozenset, set):
            schema["uniqueItems"] = True
        return schema
    if origin in (dict, typing.Mapping) or tp is dict:
        value = args[1] if len(args) == 2 else typing.Any
        return {"type": "object", "additionalProperties": json_schema(value, components)}
    raise TypeError(f"no JSON Schema for {tp!r}")


def _object(cls: type, components: MutableMapping[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties = {}
    required = []
    for field in attrs.fields(cls):
        properties[field.name] = json_schema(hints[field.name], components)
        if field.default is attrs.NOTHING:
            required.append(field.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    doc = (cls.__doc__ or "").strip().split("\n\n", 1)[0]
    if doc:
        schema["description"] = " ".join(doc.split())
    return schema
