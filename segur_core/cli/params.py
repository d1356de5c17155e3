"""Click parameter types for a command line typed by anyone: numbers that fit the
databases, input files that are regular and bounded.

``ROW_ID`` and ``COUNT`` stop at SQLite's largest integer (a larger one raised an
``OverflowError`` deep in a query). :class:`InputFile` refuses what is not a regular file
(``/dev/zero``, a FIFO, a folder) or is larger than the command accepts, and
:func:`read_bounded` reads at most that much even if the file grows meanwhile.
"""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path
from typing import Any

import click

from segur_core.errors import InputError
from segur_core.i18n import LazyText, _, _l

__all__ = [
    "COUNT",
    "ROW_ID",
    "SQLITE_MAX_INT",
    "InputFile",
    "PathParam",
    "moment",
    "out_option",
    "patient_argument",
    "patient_option",
    "read_bounded",
    "short",
]

SQLITE_MAX_INT = 2**63 - 1
#: An outbox delivery id, a journal record number...
ROW_ID = click.IntRange(1, SQLITE_MAX_INT)
#: A ``--limit``: how many rows at most.
COUNT = click.IntRange(1, SQLITE_MAX_INT)


def short(text: object, size: int = 80) -> str:
    """``text`` cut for a one-line message (a 5,000-character path stays readable)."""
    value = str(text)
    return value if len(value) <= size else f"{value[:size]}… ({len(value)} characters)"


class InputFile(click.ParamType):
    """An existing regular file of at most ``max_bytes``; converts to a :class:`Path`."""

    name = "file"

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if "\x00" in str(value):
            self.fail(_("{value!r} contains a NUL byte").format(value=short(value)), param, ctx)
        try:
            info = path.stat()
        except OSError as error:  # missing, too long a name...
            self.fail(f"{short(value)!r}: {error.strerror or error}", param, ctx)
        if not stat.S_ISREG(info.st_mode):
            self.fail(_("{value!r} is not a regular file").format(value=short(value)), param, ctx)
        if info.st_size > self.max_bytes:
            self.fail(
                _("{value!r} is {size} bytes, more than {limit}").format(
                    value=short(value), size=info.st_size, limit=self.max_bytes
                ),
                param,
                ctx,
            )
        return path


class PathParam(click.Path):
    """``click.Path`` that also refuses a NUL byte as a usage error (click lets the
    ``ValueError`` of ``os.stat`` escape)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if "\x00" in str(value):
            self.fail(_("{value!r} contains a NUL byte").format(value=short(value)), param, ctx)
        return super().convert(value, param, ctx)


def read_bounded(path: Path | str, max_bytes: int) -> bytes:
    """The content of ``path``, or :class:`InputError` beyond ``max_bytes`` or when it
    cannot be read."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as error:
        raise InputError(
            _("cannot read {path}: {reason}").format(
                path=short(path), reason=error.strerror or error
            )
        ) from None
    if len(data) > max_bytes:
        raise InputError(
            _("{path} is larger than {limit} bytes").format(path=short(path), limit=max_bytes)
        )
    return data


def patient_argument(**options: Any) -> Any:
    """The ``PATIENT`` argument (passed as ``patient``): the host's patient id, named the
    same way by every command."""
    return click.argument("patient", metavar="PATIENT", **options)


_PATIENT_HELP = _l("The patient (the host's patient id).")


def patient_option(help: Any = _PATIENT_HELP, **options: Any) -> Any:
    """The ``--patient PATIENT`` option (passed as ``patient``), for commands where the
    patient is optional or not the main argument."""
    return click.option("--patient", "patient", metavar="PATIENT", help=help, **options)


def out_option(*old: str, help: str | LazyText, **options: Any) -> Any:
    """The ``-o/--out PATH`` option (passed as ``out``) of every command that writes
    somewhere; ``old`` spellings (``--output``...) stay accepted, hidden, with a
    deprecation note on stderr."""
    options.setdefault("type", PathParam())
    if not old:
        return click.option("-o", "--out", "out", metavar="PATH", help=help, **options)
    key = f"segur.old-out.{old[0]}"

    def remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None:  # given on the command line: processed before -o/--out
            note = _("note: {option} is deprecated; use -o/--out").format(option="/".join(old))
            click.echo(note, err=True)
            ctx.meta[key] = value

    def take(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        source = ctx.get_parameter_source(param.name or "")
        if key in ctx.meta and source is not click.core.ParameterSource.COMMANDLINE:
            return ctx.meta[key]
        return value

    main = click.option("-o", "--out", "out", metavar="PATH", help=help, callback=take, **options)
    hidden = click.option(
        *old, hidden=True, expose_value=False, callback=remember, type=options["type"]
    )

    def decorate(f: Any) -> Any:
        return main(hidden(f))

    return decorate


def moment(text: str | None) -> dt.datetime | None:
    """An option's ISO 8601 date or date-time (``--since``), UTC when it names no zone;
    anything else is a :class:`click.BadParameter` saying so."""
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            _("{text!r} is not an ISO 8601 date or date-time").format(text=text)
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
