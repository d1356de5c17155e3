"""Progress for anything a person waits on for more than a second (the first schematron
compilation, several files, a batch): a rich progress bar on stderr when stderr is a
terminal, nothing at all otherwise (a pipe, a file, a script, ``--json``). stdout is
never touched, so a command's output stays what a script reads."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["Bar", "progress", "shows_progress"]


def _isatty(stream: Any) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def shows_progress(enabled: bool = True) -> bool:
    """Whether progress would be drawn: ``enabled`` (not ``--json``) and stderr is a
    terminal."""
    return enabled and _isatty(sys.stderr)


class Bar:
    """One task of a progress display; every method does nothing when nothing is drawn."""

    def __init__(self, live: Any = None, task: Any = None) -> None:
        self._live = live
        self._task = task

    @property
    def shown(self) -> bool:
        return self._live is not None

    def advance(self, steps: float = 1) -> None:
        """``steps`` more units done."""
        if self._live is not None:
            self._live.advance(self._task, steps)

    def update(
        self,
        *,
        completed: float | None = None,
        total: float | None = None,
        description: str | None = None,
    ) -> None:
        """Set how much is done, the total (once known) or the text."""
        if self._live is not None:
            fields: dict[str, Any] = {}
            if completed is not None:
                fields["completed"] = completed
            if total is not None:
                fields["total"] = total
            if description is not None:
                fields["description"] = description
            self._live.update(self._task, **fields)

    def note(self, text: str) -> None:
        """A line printed above the bar (kept when the bar goes)."""
        if self._live is not None:
            self._live.console.print(text, highlight=False, markup=False)


@contextlib.contextmanager
def progress(
    description: str,
    *,
    total: float | None = None,
    count: bool | None = None,
    enabled: bool = True,
) -> Iterator[Bar]:
    """A progress bar for the work in the ``with`` block (a pulsing one while ``total``
    is unknown), removed when the block ends; ``count`` shows "done/total" (by default
    when ``total`` is given). A do-nothing :class:`Bar` when :func:`shows_progress` says
    no (``enabled=False`` for ``--json``)."""
    if not shows_progress(enabled):
        yield Bar()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    if count if count is not None else total is not None:
        columns.append(MofNCompleteColumn())
    columns.append(TimeElapsedColumn())
    stdout_too = _isatty(sys.stdout)  # lines printed meanwhile go above the bar
    with Progress(
        *columns, console=Console(stderr=True), transient=True, redirect_stdout=stdout_too
    ) as live:
        yield Bar(live, live.add_task(description, total=total))
