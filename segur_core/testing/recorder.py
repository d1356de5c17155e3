"""Record every hook call a runtime makes: name, arguments, results.

::

    recorder = HookRecorder.attach(runtime)
    runtime.card_read(reading)
    call = recorder.one("on_card_read")
    assert call.kwargs["reading"] is reading
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["HookCall", "HookRecorder"]


@attrs.frozen
class HookCall:
    """One hook call: its name, keyword arguments, and result or exception.

    ``result`` is a list for ordinary hooks and one value for first-result hooks.
    ``plugins`` names the implementations that were called, in call order.
    """

    name: str
    kwargs: dict[str, Any]
    result: Any = None
    exception: BaseException | None = None
    plugins: tuple[str, ...] = ()


class HookRecorder:
    """Records hook calls of one plugin manager until :meth:`detach`."""

    def __init__(self) -> None:
        self.calls: list[HookCall] = []
        self._undo: Callable[[], None] | None = None
        self._lock = threading.Lock()

    @classmethod
    def attach(cls, runtime_or_pm: Any) -> HookRecorder:
        """Start recording the hook calls of a runtime (or a pluggy PluginManager)."""
        pm = getattr(runtime_or_pm, "pm", runtime_or_pm)
        recorder = cls()

        def before(hook_name: str, hook_impls: Any, kwargs: Any) -> None:
            pass

        def after(outcome: Any, hook_name: str, hook_impls: Any, kwargs: Any) -> None:
            plugins = tuple(impl.plugin_name for impl in reversed(hook_impls))
            exception = outcome.exception
            result = None if exception is not None else outcome.get_result()
            with recorder._lock:
                recorder.calls.append(HookCall(hook_name, dict(kwargs), result, exception, plugins))

        recorder._undo = pm.add_hookcall_monitoring(before, after)
        return recorder

    def detach(self) -> None:
        """Stop recording (recorded calls are kept)."""
        if self._undo is not None:
            self._undo()
            self._undo = None

    def names(self) -> list[str]:
        """Names of the recorded hooks, in call order."""
        return [call.name for call in self.calls]

    def of(self, name: str) -> list[HookCall]:
        """Recorded calls of one hook."""
        return [call for call in self.calls if call.name == name]

    def one(self, name: str) -> HookCall:
        """The single recorded call of a hook; fails if there were none or several."""
        found = self.of(name)
        if len(found) != 1:
            raise AssertionError(f"expected one call of {name}, got {len(found)}: {self.names()}")
        return found[0]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def __len__(self) -> int:
        return len(self.calls)

    def __repr__(self) -> str:
        return f"<HookRecorder {len(self.calls)} calls>"
