"""The appli carte Vitale (ApCV): adapter boundary, mutual-TLS HTTP client, sandbox.

The ApCV protocol is not public: see :mod:`segur_vitale.apcv.adapter` for what segur
assumes. The sandbox lives in :mod:`segur_vitale.apcv.sandbox` (needs starlette).
"""

from segur_vitale.apcv.adapter import ApcvAdapter, ApcvMode, ApcvRequest
from segur_vitale.apcv.client import HttpApcvAdapter, readings_from_json
from segur_vitale.apcv.service import apcv_adapter, identify_and_dispatch

__all__ = [
    "ApcvAdapter",
    "ApcvMode",
    "ApcvRequest",
    "HttpApcvAdapter",
    "apcv_adapter",
    "identify_and_dispatch",
    "readings_from_json",
]
