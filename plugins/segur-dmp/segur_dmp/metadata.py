"""French XDS metadata derived from the CDA R2 header (DocumentEntry, SubmissionSet):
the core's :mod:`segur_core.xds.metadata`, shared with XDM archives, re-exported.
"""

from __future__ import annotations

from segur_core.xds.metadata import (
    CLASS_BY_TYPE,
    FORMAT_BY_TEMPLATE,
    Author,
    Code,
    DocumentEntry,
    SubmissionSet,
    cx,
    entry_from_cda,
    new_oid,
    parse_cx,
    xds_time,
)

__all__ = [
    "CLASS_BY_TYPE",
    "FORMAT_BY_TEMPLATE",
    "Author",
    "Code",
    "DocumentEntry",
    "SubmissionSet",
    "cx",
    "entry_from_cda",
    "new_oid",
    "parse_cx",
    "xds_time",
]
