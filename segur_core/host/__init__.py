"""The host contract: the hooks the LGO implements and the typed facade plugins call.

The contract (:mod:`segur_core.host.hookspecs`) and its facade (:class:`Host`) live in the
core; the SQLite reference host and the conformance kit live in :mod:`hostspecs`, which
builds on the core. The host is configuration: the runtime makes it with the factory
named by ``--host``, ``SEGUR_HOST`` or ``[segur] host`` (:func:`host_setting`), the
reference host (:data:`DEFAULT_HOST_FACTORY`) only where nothing is named.
"""

from segur_core.host.facade import Host
from segur_core.host.factory import (
    DEFAULT_HOST_FACTORY,
    HOST_ENV,
    HostFactory,
    call_host_factory,
    host_setting,
    is_host,
    load_host_factory,
    make_host,
)
from segur_core.host.hookspecs import HOST_HOOKS, OPTIONAL_HOST_HOOKS, hostimpl
from segur_core.lazy import lazy_exports

__all__ = [
    "DEFAULT_HOST_FACTORY",
    "HOST_ENV",
    "HOST_HOOKS",
    "OPTIONAL_HOST_HOOKS",
    "CursorError",
    "Host",
    "HostFactory",
    "PatientPage",
    "call_host_factory",
    "host_setting",
    "hostimpl",
    "is_host",
    "load_host_factory",
    "make_host",
]

# the model (attrs) only when a page is asked for: loading plugins stays light
__getattr__, __dir__ = lazy_exports(
    __name__, dict.fromkeys(("CursorError", "PatientPage"), "segur_core.host.paging"), globals()
)
