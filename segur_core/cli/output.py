"""What the ``segur`` commands print: one JSON shape for scripts, tables and dates for
people. Every command of the core and of the plugins goes through these helpers, so
that a script reads every command the same way (``docs/cli.md``).

The JSON convention:

- ``--json`` (:func:`json_option`, one help text) prints **one JSON object** on stdout
  (:func:`emit_json`): never a bare list, so that a field can be added later; a listing
  puts its rows under a plural noun (``{"patients": [...]}``).
- A command that reports as things happen (``segur vitale watch``) prints **one object
  per line** (JSON Lines, :func:`emit_json_line`) and says so in its help.
- Keys are ``snake_case``; dates and times are ISO 8601 strings; identifiers are masked
  as on screen; text is UTF-8.
- Errors keep their exit status and their one ``Error:`` line on stderr; progress and
  notes go to stderr and are off with ``--json``.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypeVar

import click

from segur_core.i18n import _l

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = [
    "JSON_HELP",
    "JSON_LINES_HELP",
    "TABLE_WIDTH",
    "console",
    "emit_json",
    "emit_json_line",
    "json_option",
    "parse_time",
    "table",
    "to_json",
    "when",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The help of every ``--json`` option printing one object.
JSON_HELP = _l("Print one JSON object on stdout, for scripts.")
#: The help of every ``--json`` option printing one object per event.
JSON_LINES_HELP = _l("Print one JSON object per line on stdout (JSON Lines), for scripts.")

#: The width every table must fit without cutting a word: the classic 80 columns (what
#: rich takes when the output is not a terminal and ``$COLUMNS`` is not set).
TABLE_WIDTH = 80


def json_option(f: F | None = None, *, lines: bool = False) -> Any:
    """The ``--json`` flag (passed as ``as_json``), with the one wording of every command;
    ``lines=True`` for a command printing JSON Lines."""

    decorator = click.option(
        "--json", "as_json", is_flag=True, help=JSON_LINES_HELP if lines else JSON_HELP
    )
    return decorator(f) if f is not None else decorator


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)  # a plugin's own value in a report: its text, never a crash


def to_json(data: Mapping[str, Any], *, indent: int | None = 2) -> str:
    """``data`` as the JSON text of the convention (dates ISO 8601, UTF-8)."""
    if not isinstance(data, Mapping):
        raise TypeError("a command's JSON output is one object, not a list or a value")
    return json.dumps(dict(data), indent=indent, ensure_ascii=False, default=_default)


def emit_json(data: Mapping[str, Any]) -> None:
    """Print ``data``, the one JSON object of a ``--json`` command, on stdout."""
    click.echo(to_json(data))


def emit_json_line(data: Mapping[str, Any]) -> None:
    """Print one JSON Lines record on stdout, flushed at once (a script reads it as it
    happens)."""
    import sys

    click.echo(to_json(data, indent=None))
    sys.stdout.flush()


def console(*, stderr: bool = False) -> Console:
    """A rich console for people: the terminal's width on a terminal, ``$COLUMNS`` when
    set, else :data:`TABLE_WIDTH` (rich's own rule, which the tables are made for)."""
    from rich.console import Console

    return Console(stderr=stderr)


def table(title: str | None, columns: Mapping[str, str], **options: Any) -> Table:
    """A rich table that never cuts a word: each column is ``name -> kind``, where kind
    ``"key"`` is a short value kept whole on one line (an id, a state, a count, a date)
    and ``"text"`` a value that wraps between words. When the columns' longest words do
    not fit the width side by side (80 columns on a pipe), each row is shown as a
    paragraph instead: its first value, then its ``column value`` pairs wrapping between
    words. Only a single word wider than the whole screen is ever folded."""
    grid = _FitTable(title=title, **options)
    for name, kind in columns.items():
        if kind == "key":
            grid.add_column(name, no_wrap=True)
        elif kind == "text":
            grid.add_column(name, overflow="fold")
        else:
            raise ValueError(f"unknown column kind {kind!r}")
    return grid


def _fit_table_class() -> type:
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    def plain(cell: Any) -> Text:
        return Text.from_markup(cell) if isinstance(cell, str) else Text(str(cell))

    class FitTable(Table):
        def __rich_console__(self, console: Any, options: Any) -> Any:
            for column in self.columns:
                if column.no_wrap:  # a key column: its longest value, whole
                    widths = [cell_len(plain(c).plain) for c in column.cells]
                    column.min_width = max([cell_len(str(column.header)), *widths])
            if self.__rich_measure__(console, options).minimum <= options.max_width:
                yield from super().__rich_console__(console, options)
                return
            yield from self._paragraphs()

        def _paragraphs(self) -> Any:
            from rich.padding import Padding

            if self.title:
                yield Text(str(self.title), style="bold", justify="center")
            from rich.table import Table as Grid

            cells = [list(column.cells) for column in self.columns]
            heads = [plain(c) for c in cells[0]]
            # short first values (ids): beside their paragraph; long ones: on their own line
            beside = max((cell_len(h.plain) for h in heads), default=0) <= 8
            layout = Grid.grid(padding=(0, 1))
            layout.add_column(no_wrap=True)
            layout.add_column(overflow="fold")
            for index, row in enumerate(self.rows):
                head = heads[index]
                head.stylize("bold")
                body = Text()
                for column, values in zip(self.columns[1:], cells[1:], strict=True):
                    value = plain(values[index])
                    if not value.plain:
                        continue
                    if body:
                        body.append("  ")
                    body.append(f"{column.header} ", style="dim")
                    body.append_text(value)
                if row.style:
                    head.stylize(row.style)
                    body.stylize(row.style)
                if beside:
                    layout.add_row(head, body)
                else:
                    yield head
                    yield Padding(body, (0, 0, 0, 2))
            if beside:
                yield layout

    return FitTable


class _LazyFitTable:
    """Builds the table class on first use: rich is imported only by commands that draw."""

    cls: type | None = None

    def __call__(self, **options: Any) -> Any:
        if self.cls is None:
            self.cls = _fit_table_class()
        return self.cls(**options)


_FitTable = _LazyFitTable()


_TS = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(?:[.]\d+)?([+-]\d{4}|Z)?$")


def parse_time(value: Any) -> dt.datetime | dt.date | None:
    """``value`` (a datetime, an epoch number, an ISO 8601 or HL7 TS string) as a
    datetime (aware; UTC when no offset is given) or a date; ``None`` if it is none."""
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _TS.match(text)
    if match:  # HL7 / XDS TS: 20261202 or 20261202044900[+0100]
        year, month, day, hour, minute, second, zone = match.groups()
        try:
            if hour is None:
                return dt.date(int(year), int(month), int(day))
            tz = dt.UTC
            if zone and zone != "Z":
                sign = 1 if zone[0] == "+" else -1
                tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:])))
            return dt.datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                tzinfo=tz,
            )  # fmt: skip
        except ValueError:
            return None
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def when(value: Any, *, empty: str = "") -> str:
    """A date or time as a person reads it: ``2026-12-02 05:49`` in the machine's local
    time (``2026-12-02`` for a date alone), whatever it came as (a datetime, an epoch
    number, an ISO 8601 or HL7 TS string). Stored times are UTC; an operator reads the
    pharmacy's clock. Anything else is shown as it is."""
    if value is None or value == "":
        return empty
    parsed = parse_time(value)
    if parsed is None:
        return str(value)
    if isinstance(parsed, dt.datetime):
        return parsed.astimezone().strftime("%Y-%m-%d %H:%M")
    return parsed.isoformat()
