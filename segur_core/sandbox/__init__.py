"""Local sandboxes: run ASGI peers of national services on loopback with mutual TLS.

Plugins subclass :class:`Sandbox`; tests arm faults through :class:`FaultInjector`;
handlers read the verified client certificate with :func:`peer_certificate`.
"""

from segur_core.sandbox.base import Sandbox
from segur_core.sandbox.faults import Fault, FaultInjector
from segur_core.sandbox.server import ServerThread, ServerTLS, peer_certificate
from segur_core.sandbox.transcript import Exchange, Transcript

__all__ = [
    "Exchange",
    "Fault",
    "FaultInjector",
    "Sandbox",
    "ServerTLS",
    "ServerThread",
    "Transcript",
    "peer_certificate",
]
