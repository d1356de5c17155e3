"""XDS document metadata shared by every writer of health documents: the DocumentEntry
and SubmissionSet derived from a CDA R2 header, their ebRIM 3.0 encoding (both ways),
and the HL7 v2 value forms and length limits they must respect.

Pure: nothing here knows about a transport, the host or the runtime. A DMP feed
(segur-dmp) and an IHE XDM archive (:mod:`segur_core.xdm`) both build on it.
"""

from segur_core.xds.hl7v2 import MetadataLimitError
from segur_core.xds.metadata import (
    ENTRY_RULES,
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
from segur_core.xds.ns import NS, OID, UUID

__all__ = [
    "ENTRY_RULES",
    "NS",
    "OID",
    "UUID",
    "Author",
    "Code",
    "DocumentEntry",
    "MetadataLimitError",
    "SubmissionSet",
    "cx",
    "entry_from_cda",
    "new_oid",
    "parse_cx",
    "xds_time",
]
