"""Thin, typed access to PC/SC through pyscard's ``smartcard.scard`` layer.

pyscard is the optional ``pcsc`` extra: importing this module never fails, the
functions raise :class:`~segur_vitale.errors.PcscUnavailableError` when pyscard is
missing or ``pcscd`` is not running. Every PC/SC return code becomes a typed error.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

from segur_vitale.errors import (
    CardAbsentError,
    CardProtocolError,
    CardRemovedError,
    PcscUnavailableError,
    ReaderError,
    ReaderUnavailableError,
)
from segur_vitale.i18n import _

__all__ = [
    "PNP_NOTIFICATION",
    "check",
    "establish_context",
    "list_readers",
    "pcsc_available",
    "pyscard_installed",
    "readers_with_card",
    "release_context",
    "scard",
    "session",
    "wait_for_card",
]

#: The pseudo reader whose state changes when a reader is plugged or unplugged.
PNP_NOTIFICATION = "\\\\?PnP?\\Notification"


def scard() -> Any:
    """The ``smartcard.scard`` module, or :class:`PcscUnavailableError`."""
    try:
        return importlib.import_module("smartcard.scard")
    except ImportError as error:
        raise PcscUnavailableError(
            _("pyscard is not installed"),
            hint=_("install the pcsc extra: pip install 'segur-vitale[pcsc]'"),
        ) from error


def pyscard_installed() -> bool:
    try:
        scard()
    except PcscUnavailableError:
        return False
    return True


def check(hresult: int, action: str, *, reader: str | None = None) -> None:
    """Raise the typed error matching a PC/SC return code (nothing on success)."""
    sc = scard()
    if hresult == sc.SCARD_S_SUCCESS:
        return
    text = sc.SCardGetErrorMessage(hresult).strip().rstrip(".")  # the system's words
    message = _("{action}: {reason}").format(action=action, reason=text)
    if hresult in (sc.SCARD_E_NO_SERVICE, sc.SCARD_E_SERVICE_STOPPED):
        raise PcscUnavailableError(
            _("{action}: {reason}").format(action=action, reason=_("no PC/SC service")),
            hint=_("start the PC/SC daemon (pcscd) and check the reader driver"),
        )
    if hresult in (
        sc.SCARD_E_UNKNOWN_READER,
        sc.SCARD_E_READER_UNAVAILABLE,
        sc.SCARD_E_NO_READERS_AVAILABLE,
    ):
        raise ReaderUnavailableError(
            message, reader=reader, hint=_("check that the reader is plugged in")
        )
    if hresult == sc.SCARD_E_NO_SMARTCARD:
        raise CardAbsentError(message, hint=_("insert the card"))
    if hresult in (sc.SCARD_W_REMOVED_CARD, sc.SCARD_W_RESET_CARD):
        raise CardRemovedError(message, hint=_("insert the card again and keep it in"))
    if hresult in (
        sc.SCARD_W_UNRESPONSIVE_CARD,
        sc.SCARD_W_UNPOWERED_CARD,
        sc.SCARD_W_UNSUPPORTED_CARD,
    ):
        raise CardProtocolError(message, hint=_("the card does not answer; check its side"))
    raise ReaderError(message)


def establish_context() -> Any:
    """A PC/SC context handle (release it with :func:`release_context`)."""
    sc = scard()
    hresult, context = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
    check(hresult, _("cannot reach the PC/SC service"))
    return context


def release_context(context: Any) -> None:
    with contextlib.suppress(Exception):
        scard().SCardReleaseContext(context)


@contextlib.contextmanager
def session() -> Iterator[Any]:
    """A PC/SC context for the duration of a ``with`` block."""
    context = establish_context()
    try:
        yield context
    finally:
        release_context(context)


def list_readers(name_filter: str | None = None, *, context: Any = None) -> list[str]:
    """Names of the connected readers (containing ``name_filter`` when given)."""
    sc = scard()
    own = context is None
    if own:
        context = establish_context()
    try:
        hresult, readers = sc.SCardListReaders(context, [])
        if hresult == sc.SCARD_E_NO_READERS_AVAILABLE:
            return []
        check(hresult, _("cannot list the readers"))
    finally:
        if own:
            release_context(context)
    return [name for name in readers if not name_filter or name_filter.lower() in name.lower()]


def pcsc_available() -> bool:
    """Whether pyscard is installed and pcscd answers."""
    try:
        release_context(establish_context())
    except ReaderError:
        return False
    return True


def readers_with_card(name_filter: str | None = None, *, context: Any = None) -> list[str]:
    """Names of the readers (matching ``name_filter``) that hold a card right now."""
    sc = scard()
    own = context is None
    if own:
        context = establish_context()
    try:
        names = list_readers(name_filter, context=context)
        if not names:
            return []
        hresult, states = sc.SCardGetStatusChange(
            context, 0, [(name, sc.SCARD_STATE_UNAWARE) for name in names]
        )
        check(hresult, _("cannot read the readers' state"))
        return [
            name
            for name, state, _atr in states
            if state & sc.SCARD_STATE_PRESENT and not state & sc.SCARD_STATE_MUTE
        ]
    finally:
        if own:
            release_context(context)


def wait_for_card(reader: str, *, timeout: float = 5.0, present: bool = True) -> bool:
    """Wait until ``reader`` holds a card (or is empty with ``present=False``)."""
    import time

    sc = scard()
    deadline = time.monotonic() + timeout
    with session() as context:
        state = sc.SCARD_STATE_UNAWARE
        while True:
            remaining = int(max(0.0, deadline - time.monotonic()) * 1000)
            hresult, states = sc.SCardGetStatusChange(context, remaining, [(reader, state)])
            if hresult == sc.SCARD_E_TIMEOUT:
                return False
            check(hresult, _("cannot read the reader's state"), reader=reader)
            state = states[0][1] & ~sc.SCARD_STATE_CHANGED
            has_card = bool(state & sc.SCARD_STATE_PRESENT) and not state & sc.SCARD_STATE_MUTE
            if has_card == present:
                return True
            if remaining == 0:
                return False
