"""The typed errors of segur-vitale.

Every card or reader problem is a :class:`~segur_core.errors.CardError`; every problem
with the appli carte Vitale service is a :class:`~segur_core.errors.RemoteServiceError`
(service ``apcv``). Messages never hold a NIR, a name or a birth date.
"""

from __future__ import annotations

from segur_core.errors import CardError, InputError, RemoteServiceError
from segur_core.model import CardKind

__all__ = [
    "ApcvContextExpiredError",
    "ApcvContextUnknownError",
    "ApcvError",
    "ApcvPayloadError",
    "CardAbsentError",
    "CardDataError",
    "CardProtocolError",
    "CardRemovedError",
    "PcscUnavailableError",
    "ReaderError",
    "ReaderUnavailableError",
    "StatusWordError",
    "TLVError",
    "TruncatedResponseError",
    "UnsupportedCardError",
]


class ReaderError(CardError):
    """A reader problem: unknown reader, reader unplugged, PC/SC service unreachable."""


class PcscUnavailableError(ReaderError):
    """PC/SC cannot be used: pyscard is not installed or pcscd is not running."""


class ReaderUnavailableError(ReaderError):
    """The reader is unknown or went away (unplugged) while in use."""

    def __init__(self, message: str, *, reader: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.reader = reader


class CardAbsentError(CardError):
    """No card in the reader."""


class CardRemovedError(CardError):
    """The card was pulled out (or reset by another program) during an exchange."""


class CardProtocolError(CardError):
    """The card answered outside the protocol (truncated answer, endless chaining...)."""


class TruncatedResponseError(CardProtocolError):
    """A response APDU shorter than its two status bytes."""


class StatusWordError(CardProtocolError):
    """The card refused a command: ``sw`` is the status word (``0x6A82``...)."""

    def __init__(self, message: str, *, sw: int, command: str = "", hint: str | None = None):
        super().__init__(f"{message}: status {sw:04X}" + (f" on {command}" if command else ""),
                         hint=hint)
        self.sw = sw
        self.command = command


class TLVError(CardError):
    """Malformed BER-TLV data; ``offset`` is where parsing stopped."""

    def __init__(self, message: str, *, offset: int = 0, hint: str | None = None):
        super().__init__(f"{message} (at byte {offset})", hint=hint)
        self.offset = offset


class CardDataError(CardError):
    """Well-formed TLV holding data that is not what a carte Vitale holds (bad date...)."""


class UnsupportedCardError(CardError):
    """The card is not a carte Vitale (a CPS, an unknown card); ``kind`` says what it is."""

    def __init__(self, message: str, *, kind: CardKind = CardKind.UNKNOWN,
                 hint: str | None = None):
        super().__init__(message, hint=hint)
        self.kind = kind


class ApcvPayloadError(InputError):
    """A QR payload or NFC read of the appli carte Vitale is malformed."""


class ApcvError(RemoteServiceError):
    """The appli carte Vitale service refused or failed a request."""

    def __init__(self, message: str, *, code: str | None = None,
                 transient: bool | None = None, hint: str | None = None):
        super().__init__(message, service="apcv", code=code, transient=transient, hint=hint)


class ApcvContextExpiredError(ApcvError):
    """The ApCV context (QR code or NFC session) has expired: ask for a new one."""


class ApcvContextUnknownError(ApcvError):
    """The ApCV service does not know this context (never issued, already used)."""
