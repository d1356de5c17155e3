"""segur-vitale: the patient's identity at the counter.

carte Vitale over PC/SC (pyscard, optional ``pcsc`` extra), CPS detection from the ATR,
appli carte Vitale through an adapter boundary, manual entry, and virtual cards for
tests and the demo. Every reading becomes a :class:`~segur_core.model.CardReading`
announced with ``runtime.card_read(reading)``.

Names are imported on first use, so that loading the plugin (``segur plugins``) does
not import the card layers.
"""

from segur_core.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Command": "segur_vitale.apdu",
    "Response": "segur_vitale.apdu",
    "exchange": "segur_vitale.apdu",
    "card_kind": "segur_vitale.atr",
    "VitaleConfig": "segur_vitale.config",
    "ApcvContextExpiredError": "segur_vitale.errors",
    "ApcvContextUnknownError": "segur_vitale.errors",
    "ApcvError": "segur_vitale.errors",
    "ApcvPayloadError": "segur_vitale.errors",
    "CardAbsentError": "segur_vitale.errors",
    "CardDataError": "segur_vitale.errors",
    "CardProtocolError": "segur_vitale.errors",
    "CardRemovedError": "segur_vitale.errors",
    "PcscUnavailableError": "segur_vitale.errors",
    "ReaderError": "segur_vitale.errors",
    "ReaderUnavailableError": "segur_vitale.errors",
    "StatusWordError": "segur_vitale.errors",
    "TLVError": "segur_vitale.errors",
    "TruncatedResponseError": "segur_vitale.errors",
    "UnsupportedCardError": "segur_vitale.errors",
    "dispatch_manual": "segur_vitale.manual",
    "manual_reading": "segur_vitale.manual",
    "CardEvent": "segur_vitale.monitor",
    "CardMonitor": "segur_vitale.monitor",
    "EventKind": "segur_vitale.monitor",
    "CounterReader": "segur_vitale.reading",
    "choose_beneficiary": "segur_vitale.reading",
    "dispatch": "segur_vitale.reading",
    "read_and_dispatch": "segur_vitale.reading",
    "CardTransport": "segur_vitale.transport",
    "DirectTransport": "segur_vitale.transport",
    "PcscTransport": "segur_vitale.transport",
    "Beneficiary": "segur_vitale.vitale",
    "VitaleCard": "segur_vitale.vitale",
    "read_vitale": "segur_vitale.vitale",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
