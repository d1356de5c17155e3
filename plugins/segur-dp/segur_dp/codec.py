"""The JSON bodies of the sandbox DP protocol, both ways, read strictly.

The real DP protocol is not public (the CNOP approves connections against an unpublished
specification): this is the sandbox's own protocol, spoken by :mod:`segur_dp.https` and
:mod:`segur_dp.sandbox`. Every answer is checked field by field; anything else is a
:class:`~segur_dp.errors.DPAnswerError` naming the field, never a ``KeyError``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from segur_dp.depth import Category
from segur_dp.errors import DPAnswerError
from segur_dp.model import Alert, AlertKind, HistoryLine

__all__ = [
    "alert_from_json",
    "alert_to_json",
    "dumps",
    "line_from_json",
    "line_to_json",
    "loads_object",
    "parse_time",
]

T = TypeVar("T")
_MAX_TEXT = 2000


def dumps(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads_object(data: bytes, error: Callable[[str], Exception] = DPAnswerError) -> dict:
    """``data`` as a JSON object, or ``error(message)``."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise error("not a JSON document") from None
    if not isinstance(value, dict):
        raise error("not a JSON object")
    return value


def parse_time(value: object, name: str = "time") -> dt.datetime:
    """An ISO 8601 time with its offset, as UTC."""
    if not isinstance(value, str) or len(value) > 40:
        raise DPAnswerError(f"{name}: expected an ISO 8601 time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise DPAnswerError(f"{name}: expected an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise DPAnswerError(f"{name}: the time has no UTC offset")
    return moment.astimezone(dt.UTC)


def _get(obj: Mapping[str, Any], name: str, kind: type[T], where: str) -> T:
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DPAnswerError(f"{where}.{name}: expected {kind.__name__}")
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        raise DPAnswerError(f"{where}.{name}: longer than {_MAX_TEXT} characters")
    return value


def line_to_json(line: HistoryLine) -> dict[str, Any]:
    return {
        "dispensed_at": line.dispensed_at.isoformat(),
        "category": line.category.value,
        "product_code": line.product_code,
        "label": line.label,
        "quantity": line.quantity,
        "pharmacy": line.pharmacy,
    }


def line_from_json(obj: object, where: str = "line") -> HistoryLine:
    if not isinstance(obj, dict):
        raise DPAnswerError(f"{where}: expected an object")
    category = _get(obj, "category", str, where)
    if category not in {c.value for c in Category}:
        raise DPAnswerError(f"{where}.category: not one of {', '.join(c.value for c in Category)}")
    quantity = _get(obj, "quantity", int, where)
    if not 0 < quantity < 10_000:
        raise DPAnswerError(f"{where}.quantity: out of range")
    pharmacy = obj.get("pharmacy")
    if pharmacy is not None and not isinstance(pharmacy, str):
        raise DPAnswerError(f"{where}.pharmacy: expected str or null")
    return HistoryLine(
        dispensed_at=parse_time(obj.get("dispensed_at"), f"{where}.dispensed_at"),
        category=Category(category),
        product_code=_get(obj, "product_code", str, where),
        label=_get(obj, "label", str, where),
        quantity=quantity,
        pharmacy=pharmacy,
    )


def alert_to_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "title": alert.title,
        "issued_at": alert.issued_at.isoformat(),
        "body": alert.body,
        "products": list(alert.products),
    }


def alert_from_json(obj: object, where: str = "alert") -> Alert:
    if not isinstance(obj, dict):
        raise DPAnswerError(f"{where}: expected an object")
    kind = _get(obj, "kind", str, where)
    if kind not in {k.value for k in AlertKind}:
        raise DPAnswerError(f"{where}.kind: not alert or recall")
    products = obj.get("products", [])
    if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
        raise DPAnswerError(f"{where}.products: expected a list of product codes")
    ident = _get(obj, "id", str, where)
    if not ident:
        raise DPAnswerError(f"{where}.id: empty")
    return Alert(
        id=ident,
        kind=AlertKind(kind),
        title=_get(obj, "title", str, where),
        issued_at=parse_time(obj.get("issued_at"), f"{where}.issued_at"),
        body=_get(obj, "body", str, where) if "body" in obj else "",
        products=tuple(products),
    )
