"""The SQLite reference host and the conformance kit of the host contract.

The contract itself (hook specifications, ``hostimpl``, the typed facade) is part of the
core, :mod:`segur_core.host`; it is re-exported here for hosts written against it.
"""

from segur_core.host import HOST_HOOKS, hostimpl

__all__ = ["HOST_HOOKS", "hostimpl"]
