"""segur-vitale: the patient's identity at the counter.

carte Vitale over PC/SC (pyscard, optional ``pcsc`` extra), CPS detection from the ATR,
appli carte Vitale through an adapter boundary, manual entry, and virtual cards for
tests and the demo. Every reading becomes a :class:`~segur_core.model.CardReading`
announced with ``runtime.card_read(reading)``.
"""

__version__ = "0.1.0"

from segur_vitale.apdu import Command, Response, exchange
from segur_vitale.atr import card_kind
from segur_vitale.config import VitaleConfig
from segur_vitale.errors import (
    ApcvContextExpiredError,
    ApcvContextUnknownError,
    ApcvError,
    ApcvPayloadError,
    CardAbsentError,
    CardDataError,
    CardProtocolError,
    CardRemovedError,
    PcscUnavailableError,
    ReaderError,
    ReaderUnavailableError,
    StatusWordError,
    TLVError,
    TruncatedResponseError,
    UnsupportedCardError,
)
from segur_vitale.manual import manual_reading
from segur_vitale.monitor import CardEvent, CardMonitor, EventKind
from segur_vitale.reading import (
    CounterReader,
    choose_beneficiary,
    dispatch,
    read_and_dispatch,
)
from segur_vitale.transport import CardTransport, DirectTransport, PcscTransport
from segur_vitale.vitale import Beneficiary, VitaleCard, read_vitale

__all__ = [
    "ApcvContextExpiredError",
    "ApcvContextUnknownError",
    "ApcvError",
    "ApcvPayloadError",
    "Beneficiary",
    "CardAbsentError",
    "CardDataError",
    "CardEvent",
    "CardMonitor",
    "CardProtocolError",
    "CardRemovedError",
    "CardTransport",
    "Command",
    "CounterReader",
    "DirectTransport",
    "EventKind",
    "PcscTransport",
    "PcscUnavailableError",
    "ReaderError",
    "ReaderUnavailableError",
    "Response",
    "StatusWordError",
    "TLVError",
    "TruncatedResponseError",
    "UnsupportedCardError",
    "VitaleCard",
    "VitaleConfig",
    "__version__",
    "card_kind",
    "choose_beneficiary",
    "dispatch",
    "exchange",
    "manual_reading",
    "read_and_dispatch",
    "read_vitale",
]
