"""A virtual card that plugs into pcscd through the vsmartcard ``vpcd`` reader driver.

vpcd (a PC/SC-lite driver loaded by pcscd) listens on loopback, port 35963 for the
reader "Virtual PCD 00 00" (35964 for "... 00 01"). The virtual card connects to it as
a TCP client; then every message, both ways, is a 2-byte big-endian length and a
payload (vsmartcard ``virtualsmartcard/doc/api.rst``):

* a 1-byte payload from vpcd is a control: ``00`` power off, ``01`` power on,
  ``02`` reset (no answer), ``04`` get ATR (answered with the ATR);
* a longer payload is a command APDU, answered with the response APDU.

Connecting inserts the card in the virtual reader, closing the socket removes it
(pcscd polls the presence by asking the ATR).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time

from segur_vitale.errors import ReaderUnavailableError
from segur_vitale.transport import VirtualCardLike

__all__ = ["VPCD_PORT", "VpcdCard", "vpcd_listening"]

log = logging.getLogger(__name__)

VPCD_PORT = 35963
POWER_OFF, POWER_ON, RESET, GET_ATR = 0x00, 0x01, 0x02, 0x04
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


def vpcd_listening(port: int = VPCD_PORT, host: str = "127.0.0.1") -> bool:
    """Whether a vpcd driver accepts connections (pcscd is up with vpcd loaded).

    Only probes; vpcd accepts one card at a time and notices the probe as a short insertion.
    """
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


class VpcdCard:
    """Runs a virtual card as a vpcd client in a background thread.

    ``insert()`` connects (the reader then shows the card), ``remove()`` disconnects.
    ``pull_out_after(n)`` disconnects after answering ``n`` more APDUs: the card is pulled
    out in the middle of a read.
    """

    def __init__(self, card: VirtualCardLike, *, port: int = VPCD_PORT,
                 host: str = "127.0.0.1") -> None:
        self.card = card
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._remaining: int | None = None
        self.apdus = 0
        self._powered = threading.Event()

    def wait_powered(self, timeout: float = 5.0) -> bool:
        """Wait until vpcd talked to this card (asked its ATR or powered it): the card
        is then the one in the reader, not queued behind another client."""
        return self._powered.wait(timeout)

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def insert(self, *, timeout: float = 5.0) -> VpcdCard:
        """Connect to vpcd (retrying until ``timeout``) and start answering."""
        if self.inserted:
            return self
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as error:
                if time.monotonic() >= deadline:
                    raise ReaderUnavailableError(
                        f"no vpcd virtual reader on {self.host}:{self.port}",
                        hint="start pcscd with the vsmartcard-vpcd driver installed",
                    ) from error
                time.sleep(0.1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(0.2)
        self._sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="vpcd-card", daemon=True)
        self._thread.start()
        return self

    def remove(self) -> None:
        """Disconnect: the card leaves the virtual reader."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self._close()

    def pull_out_after(self, apdus: int) -> None:
        self._remaining = apdus

    def _close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _recv_exact(self, size: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < size:
            if self._stop.is_set() or self._sock is None:
                return None
            try:
                if _QUICKACK is not None:
                    # vpcd writes the length and the payload separately; acknowledge at
                    # once so that Nagle's algorithm on its side does not wait for our
                    # delayed ACK (40 ms per message otherwise).
                    self._sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                chunk = self._sock.recv(size - len(buf))
            except TimeoutError:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _send(self, payload: bytes) -> None:
        assert self._sock is not None
        self._sock.sendall(struct.pack("!H", len(payload)) + payload)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                header = self._recv_exact(2)
                if header is None:
                    break
                (size,) = struct.unpack("!H", header)
                payload = self._recv_exact(size) if size else b""
                if payload is None:
                    break
                if len(payload) == 1:
                    control = payload[0]
                    self._powered.set()
                    if control == GET_ATR:
                        self._send(bytes(self.card.atr))
                    elif control == POWER_OFF:
                        self.card.power_off()
                    elif control in (POWER_ON, RESET):
                        self.card.power_on()
                    else:
                        log.warning("vpcd sent an unknown control byte %02X", control)
                    continue
                if self._remaining is not None:
                    if self._remaining <= 0:
                        break  # pulled out: the command gets no answer
                    self._remaining -= 1
                self.apdus += 1
                self._send(self.card.process(payload))
        except OSError as error:
            log.info("vpcd connection closed: %s", error)
        finally:
            self._close()

    def __enter__(self) -> VpcdCard:
        return self.insert()

    def __exit__(self, *exc: object) -> None:
        self.remove()
