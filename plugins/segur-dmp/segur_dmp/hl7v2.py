"""HL7 v2 values in XDS metadata (escaping, XCN/XON/CX/PID forms, ebRIM length limits):
the core's :mod:`segur_core.xds.hl7v2`, which every XDS writer shares, re-exported.
"""

from __future__ import annotations

from segur_core.xds.hl7v2 import (
    ELLIPSIS,
    FREE_FORM_TEXT,
    LONG_NAME,
    SHORT_NAME,
    Hl7v2Error,
    MetadataLimitError,
    coded,
    components,
    escape,
    fit_components,
    fit_text,
    pid5,
    problems,
    text_value,
    unescape,
    xcn,
    xon,
)

__all__ = [
    "ELLIPSIS",
    "FREE_FORM_TEXT",
    "LONG_NAME",
    "SHORT_NAME",
    "Hl7v2Error",
    "MetadataLimitError",
    "coded",
    "components",
    "escape",
    "fit_components",
    "fit_text",
    "pid5",
    "problems",
    "text_value",
    "unescape",
    "xcn",
    "xon",
]
