"""The appli carte Vitale (ApCV) adapter boundary.

The ApCV protocol (QR payload, NFC APDUs, server API) is **not public** (GIE
SESAM-Vitale editor material; reference §3). segur therefore defines its own boundary:
the counter captures an :class:`ApcvRequest` (a QR payload scanned, or the bytes of an
NFC read), an :class:`ApcvAdapter` resolves it with the ApCV service into the identity
of the app's holder and beneficiaries, as :class:`~segur_core.model.CardReading` objects
with ``source=APCV`` — a high-trust identity means ("AV") for the INS status.

ASSUMED by segur, to be replaced by the GIE package once licensed: the payloads are
opaque (only their size and alphabet are checked), and the wire format of
:class:`~segur_vitale.apcv.client.HttpApcvAdapter` and of the sandbox is segur's own.
"""

from __future__ import annotations

import base64
import enum
from typing import Protocol, runtime_checkable

import attrs

from segur_core.model import CardReading
from segur_vitale.errors import ApcvPayloadError

__all__ = ["MAX_PAYLOAD", "ApcvAdapter", "ApcvMode", "ApcvRequest"]

#: Largest accepted payload (a QR code holds at most 2953 bytes).
MAX_PAYLOAD = 4096


class ApcvMode(enum.StrEnum):
    QR = "qr"
    NFC = "nfc"


@attrs.frozen
class ApcvRequest:
    """What the counter captured from the patient's phone: a QR text or NFC bytes."""

    mode: ApcvMode = attrs.field(converter=ApcvMode)
    payload: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")

    @classmethod
    def from_qr(cls, text: str) -> ApcvRequest:
        """A scanned QR code: printable ASCII, 8 to :data:`MAX_PAYLOAD` characters
        (ASSUMED: the real alphabet and length are not public)."""
        text = text.strip()
        if not 8 <= len(text) <= MAX_PAYLOAD:
            raise ApcvPayloadError("QR payload length out of range",
                                   hint="scan the QR code shown by the app again")
        if not (text.isascii() and text.isprintable()):
            raise ApcvPayloadError("QR payload holds non-printable or non-ASCII characters",
                                   hint="scan the QR code shown by the app again")
        return cls(ApcvMode.QR, text.encode("ascii"))

    @classmethod
    def from_nfc(cls, data: bytes) -> ApcvRequest:
        """The bytes an NFC read of the phone returned (opaque, 1 to 4096 bytes)."""
        data = bytes(data)
        if not 1 <= len(data) <= MAX_PAYLOAD:
            raise ApcvPayloadError("NFC read length out of range",
                                   hint="place the phone on the reader again")
        return cls(ApcvMode.NFC, data)

    def wire_payload(self) -> str:
        """The payload as sent to the service: the QR text, or base64 of the NFC bytes."""
        if self.mode is ApcvMode.QR:
            return self.payload.decode("ascii")
        return base64.b64encode(self.payload).decode("ascii")


@runtime_checkable
class ApcvAdapter(Protocol):
    """Resolves an ApCV request into the holder's identity (and beneficiaries).

    Raises :class:`~segur_vitale.errors.ApcvContextExpiredError` or
    :class:`~segur_vitale.errors.ApcvContextUnknownError` for a stale or unknown
    request, :class:`~segur_vitale.errors.ApcvError` for other service failures.
    """

    def identify(self, request: ApcvRequest) -> tuple[CardReading, ...]:
        """One reading per beneficiary, ``source=APCV``, first the app's holder."""
