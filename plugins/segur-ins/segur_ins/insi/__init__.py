"""The INSi client: SOAP 1.2 envelopes, PS assertion, answers and faults.

Build a client with :class:`InsiClient` (endpoint, :class:`SoftwareContext`, a mutual-TLS
``ssl.SSLContext`` and, in CPS mode, :class:`CpsCredentials` with a
:class:`segur_core.wire.Signer`); search with
``lookup_traits`` (first-name strategy) or ``lookup_reading`` (carte Vitale first).
"""

from segur_ins.insi.assertion import PSAssertionData, build_ps_assertion
from segur_ins.insi.client import (
    CpsCredentials,
    InsiClient,
    first_name_attempts,
    traits_query,
    vitale_query,
)
from segur_ins.insi.envelope import (
    Envelope,
    SoftwareContext,
    TraitsQuery,
    VitaleQuery,
    build_envelope,
)
from segur_ins.insi.errors import (
    InsiAccessDenied,
    InsiCertificateError,
    InsiError,
    InsiFault,
    InsiProtocolError,
    InsiTechnicalError,
    InsiUnavailable,
    InsiUnknownSoftware,
)
from segur_ins.insi.namespaces import ACTION_TRAITS, ACTION_VITALE, NS
from segur_ins.insi.response import (
    CR_MULTIPLE,
    CR_NOT_FOUND,
    CR_OK,
    HistoricINS,
    InsiIdentity,
    InsiResult,
    parse_response,
)

__all__ = [
    "ACTION_TRAITS",
    "ACTION_VITALE",
    "CR_MULTIPLE",
    "CR_NOT_FOUND",
    "CR_OK",
    "NS",
    "CpsCredentials",
    "Envelope",
    "HistoricINS",
    "InsiAccessDenied",
    "InsiCertificateError",
    "InsiClient",
    "InsiError",
    "InsiFault",
    "InsiIdentity",
    "InsiProtocolError",
    "InsiResult",
    "InsiTechnicalError",
    "InsiUnavailable",
    "InsiUnknownSoftware",
    "PSAssertionData",
    "SoftwareContext",
    "TraitsQuery",
    "VitaleQuery",
    "build_envelope",
    "build_ps_assertion",
    "first_name_attempts",
    "parse_response",
    "traits_query",
    "vitale_query",
]
