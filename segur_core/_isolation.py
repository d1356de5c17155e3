"""Containment of event-hook failures, per-plugin counters and hook-call tracing.

Event dispatch is optimistic: the facade makes one plain pluggy hook call inside a
``try``. When no plugin raises (the normal case) that costs nothing more than a raw
pluggy call. When one raises, pluggy stops the loop; the runtime finds the failing
implementation in the traceback (:func:`failing_impl`), records the failure, and calls
the implementations that had not run yet one by one, each contained the same way.
Tracing (``SEGUR_TRACE``) wraps every implementation with a timing wrapper.

Failures are described without patient data: the exception type, where it was raised
(file and line), and the message only for :class:`~segur_core.errors.SegurError`,
whose messages never hold patient identifiers by contract.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from segur_core.errors import SegurError

__all__ = ["HealthStore", "PluginStats", "call_impl", "describe_failure", "failing_impl", "trace"]

# logging, sqlite3, time and traceback are imported where used: ``segur plugins`` imports
# this module and should not pay for them when nothing failed.


class PluginStats:
    """Counters of one plugin's event-hook calls in this process.

    ``calls`` is derived from the runtime's per-hook dispatch counters (each dispatch of
    an event calls every plugin implementing it), so the hot path counts once per
    dispatch, not once per implementation.
    """

    __slots__ = (
        "_counts",
        "_hooks",
        "failures",
        "last_error",
        "last_failure_at",
        "last_hook",
        "plugin",
    )

    def __init__(self, plugin: str) -> None:
        self.plugin = plugin
        self.failures = 0
        self.last_error: str | None = None
        self.last_hook: str | None = None
        self.last_failure_at: float | None = None
        self._counts: dict[str, int] | None = None
        self._hooks: tuple[str, ...] = ()

    def bind(self, counts: dict[str, int], hooks: Iterable[str]) -> None:
        """Count calls from ``counts`` (dispatches per event hook) for ``hooks``."""
        self._counts = counts
        self._hooks = tuple(hooks)

    @property
    def calls(self) -> int:
        counts = self._counts
        if counts is None:
            return 0
        return sum(counts.get(hook, 0) for hook in self._hooks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_hook": self.last_hook,
            "last_failure_at": self.last_failure_at,
        }


def describe_failure(exc: BaseException) -> str:
    """A one-line description of an exception that holds no patient data.

    ``KeyError at segur_x/plugin.py:42``; a ``SegurError`` keeps its message.
    """
    import traceback

    name = type(exc).__qualname__
    where = ""
    tb = exc.__traceback__
    if tb is not None:
        frames = traceback.extract_tb(tb)
        if frames:
            last = frames[-1]
            parts = Path(last.filename).parts
            where = f" at {'/'.join(parts[-2:])}:{last.lineno}"
    if isinstance(exc, SegurError):
        return f"{name}{where}: {exc}"
    return f"{name}{where}"


def failing_impl(exc: BaseException) -> Any:
    """The pluggy ``HookImpl`` that raised ``exc`` during a hook call, or ``None``.

    pluggy's ``_multicall`` runs implementations in a loop over a local ``hook_impl``;
    the outermost such frame of the traceback is the hook call the facade made.
    """
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "_multicall":
            return frame.f_locals.get("hook_impl")
        tb = tb.tb_next
    return None


def call_impl(impl: Any, kwargs: dict[str, Any]) -> Any:
    """Call one hook implementation with the hook call's keyword arguments."""
    args = [kwargs[name] for name in impl.argnames]
    if impl.kwargnames:
        extra = {k: kwargs[k] for k in impl.kwargnames if k in kwargs}
        return impl.function(*args, **extra)
    return impl.function(*args)


def trace(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    """Wrap a hook implementation so each call is logged on ``segur.trace``."""
    import logging
    import time

    trace_log = logging.getLogger("segur.trace")
    clock = time.perf_counter

    def traced(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            result = function(*args, **kwargs)
        except BaseException as exc:
            trace_log.info(
                "%s.%s %.3f ms raised %s",
                plugin,
                hook,
                (clock() - start) * 1000,
                type(exc).__qualname__,
                extra={"plugin": plugin, "hook": hook, "outcome": "error"},
            )
            raise
        trace_log.info(
            "%s.%s %.3f ms ok",
            plugin,
            hook,
            (clock() - start) * 1000,
            extra={"plugin": plugin, "hook": hook, "outcome": "ok"},
        )
        return result

    traced.__wrapped__ = function  # type: ignore[attr-defined]
    traced.__name__ = getattr(function, "__name__", hook)
    return traced


class HealthStore:
    """Per-plugin counters persisted in ``data_dir/runtime.sqlite``.

    The runtime adds its in-process deltas on each failure and when it closes, so that
    ``segur plugins`` (another process) shows what happened in the host process.
    """

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS plugin_health (
        plugin TEXT PRIMARY KEY,
        calls INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        last_hook TEXT,
        last_failure_at REAL
    )
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._flushed: dict[str, tuple[int, int]] = {}

    def _connect(self) -> Any:
        import sqlite3

        from segur_core.files import private_file

        private_file(self.path)
        conn = sqlite3.connect(self.path, timeout=5)
        conn.execute(self.SCHEMA)
        return conn

    def flush(self, stats: Iterable[tuple[str, PluginStats]]) -> None:
        """Add the counters changed since the last flush."""
        with self._lock:
            rows = []
            for name, s in stats:
                calls0, failures0 = self._flushed.get(name, (0, 0))
                if s.calls == calls0 and s.failures == failures0:
                    continue
                rows.append((name, s.calls - calls0, s.failures - failures0, s))
            if not rows:
                return
            import sqlite3

            try:
                conn = self._connect()
                with conn:
                    for name, dcalls, dfailures, s in rows:
                        conn.execute(
                            "INSERT INTO plugin_health (plugin) VALUES (?)"
                            " ON CONFLICT(plugin) DO NOTHING",
                            (name,),
                        )
                        conn.execute(
                            "UPDATE plugin_health SET calls = calls + ?,"
                            " failures = failures + ? WHERE plugin = ?",
                            (dcalls, dfailures, name),
                        )
                        if dfailures:
                            conn.execute(
                                "UPDATE plugin_health SET last_error = ?, last_hook = ?,"
                                " last_failure_at = ? WHERE plugin = ?",
                                (s.last_error, s.last_hook, s.last_failure_at, name),
                            )
                conn.close()
            except sqlite3.Error as exc:
                import logging

                logging.getLogger("segur.runtime").warning(
                    "cannot persist plugin counters in %s: %s", self.path, exc
                )
                return
            for name, _, _, s in rows:
                self._flushed[name] = (s.calls, s.failures)

    def reset(self) -> None:
        """Forget every persisted counter (after a faulty plugin was fixed)."""
        if not self.path.is_file():
            return
        with self._lock:
            conn = self._connect()
            with conn:
                conn.execute("DELETE FROM plugin_health")
            conn.close()
            self._flushed.clear()

    def read(self) -> dict[str, dict[str, Any]]:
        """The persisted counters of every plugin (empty when nothing was recorded)."""
        if not self.path.is_file():
            return {}
        import sqlite3

        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
            try:
                rows = conn.execute(
                    "SELECT plugin, calls, failures, last_error, last_hook, last_failure_at"
                    " FROM plugin_health"
                ).fetchall()
            finally:
                conn.close()
        except sqlite3.Error:
            return {}
        return {
            r[0]: {
                "calls": r[1],
                "failures": r[2],
                "last_error": r[3],
                "last_hook": r[4],
                "last_failure_at": r[5],
            }
            for r in rows
        }
