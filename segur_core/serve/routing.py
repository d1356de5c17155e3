"""Which operation answers a request: ``segur serve``'s route table.

A dictionary for fixed paths, one regular expression per path with parameters: a web
framework's router costs more per call than this (docs/performance.md, segur serve),
and the service uses none of what it adds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Generic, TypeVar

from segur_core.serve.routes import ApiError

__all__ = ["RouteTable"]

T = TypeVar("T")

_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class RouteTable(Generic[T]):
    """Which declared operation answers a method and a path: a path's ``{name}``
    segments match one non-empty segment (``[^/]+``) and are returned by name. ``HEAD``
    is answered by the ``GET`` operation of the path. ``hint``: said with a 404."""

    def __init__(self, entries: Iterable[tuple[str, str, T]], *, hint: str | None = None) -> None:
        self._hint = hint
        self._fixed: dict[str, dict[str, T]] = {}
        patterns: dict[str, tuple[re.Pattern[str], dict[str, T]]] = {}
        for method, path, value in entries:
            if _PARAM.search(path):
                patterns.setdefault(path, (_compile(path), {}))[1][method] = value
            else:
                self._fixed.setdefault(path, {})[method] = value
        self._patterns = list(patterns.values())

    def match(self, method: str, path: str) -> tuple[T, dict[str, str]]:
        """The operation and the path's parameters; :class:`ApiError` 404 (no such
        path) or 405 (no such method on the path)."""
        params: dict[str, str] = {}
        methods = self._fixed.get(path)
        if methods is None:
            for pattern, candidates in self._patterns:
                found = pattern.match(path)
                if found is not None:
                    methods, params = candidates, found.groupdict()
                    break
        if methods is None:
            raise ApiError(404, "not_found", "no such operation", hint=self._hint)
        value = methods.get("GET" if method == "HEAD" else method)
        if value is None:
            raise ApiError(405, "method_not_allowed", f"{method} is not allowed here")
        return value, params


def _compile(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_][a-z0-9_]*\})", path)
    return re.compile(
        "^"
        + "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
            for part in parts
        )
        + "$"
    )
