"""Listing every patient of the host one page at a time (``host_patients_page``).

A massive export reads every patient; a host answering all of them at once
(``host_find_patients`` with no criterion) makes memory grow with the pharmacy. Pages
go by keyset: a page ends with an opaque ``next_cursor`` naming where the next one
starts (after the last patient returned, on a stable key such as the local
identifier), never by offset, so that a patient added or removed during the
iteration neither shifts nor repeats the others.

:func:`encode_cursor` and :func:`decode_cursor` are the reference hosts' cursor format
(a host may have its own: cursors are opaque to segur); a cursor that is not one is a
:class:`CursorError`, over HTTP too.
"""

from __future__ import annotations

import base64
import binascii

import attrs

from segur_core.errors import InputError
from segur_core.model import Patient

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "CursorError",
    "PatientPage",
    "check_limit",
    "decode_cursor",
    "encode_cursor",
]

#: Patients asked for per page by :meth:`segur_core.host.Host.iter_patients`.
DEFAULT_PAGE_SIZE = 500
#: The largest page a caller may ask for (a host may answer fewer).
MAX_PAGE_SIZE = 10_000

_PREFIX = "k1."
#: The longest cursor accepted (a local identifier is short: this bounds the decoding).
_MAX_CURSOR = 4096


class CursorError(InputError):
    """A page cursor the host did not give (malformed, or from another host)."""


@attrs.frozen
class PatientPage:
    """One page of the host's patients, in the host's stable order, and where the next
    page starts (``next_cursor``; ``None`` after the last page)."""

    patients: tuple[Patient, ...] = attrs.field(converter=tuple, repr=lambda v: f"<{len(v)}>")
    next_cursor: str | None = None


def encode_cursor(key: str) -> str:
    """The cursor of the page that starts after the patient whose key (non-empty) is ``key``."""
    return _PREFIX + base64.urlsafe_b64encode(key.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The key a cursor of :func:`encode_cursor` starts after; raises
    :class:`CursorError` for anything :func:`encode_cursor` does not make."""
    if not isinstance(cursor, str) or not cursor.startswith(_PREFIX):
        raise CursorError("the page cursor is not one this host gives")
    body = cursor[len(_PREFIX) :]
    if not body or len(cursor) > _MAX_CURSOR:
        raise CursorError("the page cursor is not one this host gives")
    try:
        key = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, ValueError):
        raise CursorError("the page cursor is not one this host gives") from None
    if encode_cursor(key) != cursor:  # one cursor per key: no alternative spellings
        raise CursorError("the page cursor is not one this host gives")
    return key


def check_limit(limit: object) -> int:
    """``limit`` when it is a page size a caller may ask for (1 to
    :data:`MAX_PAGE_SIZE`); raises :class:`~segur_core.errors.InputError` otherwise."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InputError(f"a page holds 1 to {MAX_PAGE_SIZE} patients")
    return limit
