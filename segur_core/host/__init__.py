"""The host contract: the hooks the LGO implements and the typed facade plugins call.

The contract (:mod:`segur_core.host.hookspecs`) and its facade (:class:`Host`) live in the
core; the SQLite reference host and the conformance kit live in :mod:`hostspecs`, which
builds on the core. When no host is given, the runtime makes one with a named factory
(:data:`DEFAULT_HOST_FACTORY`), resolved at run time.
"""

from segur_core.host.facade import Host
from segur_core.host.factory import DEFAULT_HOST_FACTORY, HostFactory, load_host_factory
from segur_core.host.hookspecs import HOST_HOOKS, hostimpl

__all__ = [
    "DEFAULT_HOST_FACTORY",
    "HOST_HOOKS",
    "Host",
    "HostFactory",
    "hostimpl",
    "load_host_factory",
]
