"""The JSON Schemas of a route, compiled once when the service starts.

A request is checked on every call, so the check must cost next to nothing when the
request is right: a schema compiled by jsonschema-rs answers that in about a
microsecond, where jsonschema takes 0.2 to 0.3 ms for an identity search's body. When it
says no, jsonschema (the reference implementation) finds the problems and has the last
word, so the refusals (which rule, where, never the value) are the same with or without
jsonschema-rs installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from segur_core.serve.routes import ApiError

__all__ = ["Schema"]


class Schema:
    """One JSON Schema (draft 2020-12), compiled: :meth:`check` a value against it."""

    __slots__ = ("_fast", "_full", "schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self._fast = _fast(schema)
        self._full: Any = None

    def check(self, value: Any, where: str) -> None:
        """Nothing when ``value`` conforms; :class:`ApiError` 422 saying where and which
        rule failed otherwise (never echoing the value: it may be a patient's name)."""
        if self._fast is not None:
            try:
                if self._fast.is_valid(value):
                    return
            except Exception:  # a value it cannot take (an integer above 2**64)
                pass  # the full check decides
        if self._full is None:
            from jsonschema import Draft202012Validator

            self._full = Draft202012Validator(self.schema)
        errors = sorted(self._full.iter_errors(value), key=lambda e: list(e.absolute_path))
        if not errors:
            return
        problems = [
            {"at": _pointer(where, error.absolute_path), "rule": _rule(error)}
            for error in errors[:20]
        ]
        first = problems[0]
        raise ApiError(
            422,
            "invalid_request",
            f"{first['at']}: {first['rule']}",
            details={"problems": problems},
        )


def _fast(schema: Mapping[str, Any]) -> Any:
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - the serve extra installs it
        return None
    return jsonschema_rs.Draft202012Validator(json.loads(json.dumps(schema)))


def _pointer(where: str, path: Iterable[Any]) -> str:
    return ".".join([where, *(str(p) for p in path)])


def _rule(error: Any) -> str:
    kind, expected = error.validator, error.validator_value
    if kind in ("required", "additionalProperties", "propertyNames"):
        return str(error.message)  # names the keys, not the values
    if kind == "type":
        return f"expected type {expected}"
    if kind == "enum":
        return f"expected one of {expected}"
    if kind == "const":
        return f"expected {expected!r}"
    return f"fails {kind} {expected!r}"
