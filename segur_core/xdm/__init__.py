"""IHE XDM archives (``IHE_XDM.ZIP``): written from CDA headers, read safely.

Pure: nothing here knows about mail, the host or the runtime. MSSanté messages
(segur-mssante) and portability archives (segur-portability) carry them.
"""

from segur_core.xdm.archive import (
    MAX_ARCHIVE_BYTES,
    PHARMACY,
    XDMArchive,
    XDMDocument,
    read_xdm,
    write_xdm,
    xdm_members,
)
from segur_core.xdm.layout import ARCHIVE_NAME, Issuer
from segur_core.xdm.metadata import Metadata, read_metadata, write_metadata

__all__ = [
    "ARCHIVE_NAME",
    "MAX_ARCHIVE_BYTES",
    "PHARMACY",
    "Issuer",
    "Metadata",
    "XDMArchive",
    "XDMDocument",
    "read_metadata",
    "read_xdm",
    "write_metadata",
    "write_xdm",
    "xdm_members",
]
