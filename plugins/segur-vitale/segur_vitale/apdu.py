"""ISO 7816-4 short APDUs: commands, responses, status words, and T=0 exchanges.

Only short APDUs (Lc, Le up to 256) are supported: a carte Vitale is a T=0 card and
the read-only sequence of the reference needs nothing else. :func:`exchange` implements
the two T=0 rules a reader must follow by itself:

* ``61 XX``: ``XX`` more response bytes are waiting → GET RESPONSE ``00 C0 00 00 XX``
  (``XX`` = 00 means 256), repeated while the card says ``61``;
* ``6C XX``: wrong Le, the exact length is ``XX`` → resend the same command with Le = XX.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from segur_core.model import hidden
from segur_vitale.errors import CardProtocolError, StatusWordError, TruncatedResponseError

if TYPE_CHECKING:
    from segur_vitale.transport import CardTransport

__all__ = [
    "AID_VITALE",
    "AID_VITALE_MF",
    "READ_BINARY_SFI2",
    "SELECT_MF",
    "SW_OK",
    "Command",
    "Response",
    "exchange",
    "get_response",
    "read_binary_sfi",
    "select_aid",
    "select_fid",
    "sw_meaning",
]

SW_OK = 0x9000

#: RID ``D250000002`` + ASCII "VITALE" (cardpeek ``vitale_2.lua``).
AID_VITALE = bytes.fromhex("D250000002") + b"VITALE"
#: RID ``D250000002`` + ASCII "MF_VITALE" (cardpeek; not used by the read sequence).
AID_VITALE_MF = bytes.fromhex("D250000002") + b"MF_VITALE"

_MEANINGS = {
    0x6281: "part of the returned data may be corrupted",
    0x6282: "end of file reached before Le bytes",
    0x6283: "selected file invalidated",
    0x6700: "wrong length",
    0x6982: "security status not satisfied",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6A82: "file or application not found",
    0x6A86: "incorrect parameters P1-P2",
    0x6B00: "wrong parameters (offset outside the EF)",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


def sw_meaning(sw: int) -> str:
    """A short English meaning of a status word (ISO 7816-4 interindustry values)."""
    if sw == SW_OK:
        return "success"
    if sw >> 8 == 0x61:
        return f"{(sw & 0xFF) or 256} response bytes available"
    if sw >> 8 == 0x6C:
        return f"wrong Le, exact length {(sw & 0xFF) or 256}"
    return _MEANINGS.get(sw, "unknown status")


def _byte(name: str):
    return attrs.field(validator=[attrs.validators.instance_of(int),
                                  attrs.validators.in_(range(256))], metadata={"name": name})


@attrs.frozen
class Command:
    """A short command APDU. ``le`` is ``None`` (no response data expected) or 1..256."""

    cla: int = _byte("CLA")
    ins: int = _byte("INS")
    p1: int = _byte("P1")
    p2: int = _byte("P2")
    data: bytes = attrs.field(default=b"", converter=bytes)
    le: int | None = None
    label: str = attrs.field(default="", eq=False)

    def __attrs_post_init__(self) -> None:
        if len(self.data) > 255:
            raise ValueError("short APDU data is at most 255 bytes")
        if self.le is not None and not 1 <= self.le <= 256:
            raise ValueError("Le must be 1..256 (256 is encoded 00)")

    def to_bytes(self) -> bytes:
        """The APDU as sent to the card (cases 1 to 4, short form)."""
        out = bytes((self.cla, self.ins, self.p1, self.p2))
        if self.data:
            out += bytes((len(self.data),)) + self.data
        if self.le is not None:
            out += bytes((self.le & 0xFF,))
        return out

    def with_le(self, le: int) -> Command:
        """The same command with another Le (for the ``6C XX`` rule)."""
        return attrs.evolve(self, le=le)

    @classmethod
    def parse(cls, raw: bytes) -> Command:
        """Decode a short command APDU (what a card receives); raises
        :class:`CardProtocolError` for anything else (extended length, bad Lc)."""
        raw = bytes(raw)
        if len(raw) < 4:
            raise CardProtocolError(f"command APDU of {len(raw)} bytes is shorter than its header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        lc = body[0]
        if lc == 0:
            raise CardProtocolError("extended-length APDUs are not supported")
        if len(body) == 1 + lc:
            return cls(cla, ins, p1, p2, body[1:])
        if len(body) == 2 + lc:
            return cls(cla, ins, p1, p2, body[1:-1], le=body[-1] or 256)
        raise CardProtocolError(f"Lc {lc} does not match the {len(body) - 1} bytes that follow")

    def __str__(self) -> str:
        return self.label or f"{self.cla:02X} {self.ins:02X} {self.p1:02X} {self.p2:02X}"


@attrs.frozen
class Response:
    """A response APDU: data and the two status bytes."""

    data: bytes = attrs.field(converter=bytes, repr=hidden)  # may hold a NIR
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def to_bytes(self) -> bytes:
        return self.data + bytes((self.sw1, self.sw2))

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        """Split data and status; raises :class:`TruncatedResponseError` under 2 bytes."""
        raw = bytes(raw)
        if len(raw) < 2:
            raise TruncatedResponseError(
                f"response of {len(raw)} byte(s) has no status word",
                hint="the card or the reader cut the answer; try again")
        return cls(raw[:-2], raw[-2], raw[-1])

    def check(self, command: Command | str = "", *, accept: tuple[int, ...] = (SW_OK,)) -> bytes:
        """The data when the status is one of ``accept``, else :class:`StatusWordError`."""
        if self.sw not in accept:
            raise StatusWordError(f"card refused the command ({sw_meaning(self.sw)})",
                                  sw=self.sw, command=str(command))
        return self.data

    @classmethod
    def status(cls, sw: int, data: bytes = b"") -> Response:
        return cls(data, sw >> 8, sw & 0xFF)


# -- the commands of the read-only Vitale sequence (reference §1.3) ------------------------


def select_fid(fid: int, *, label: str = "") -> Command:
    """SELECT by file identifier (``00 A4 00 00 02 <fid>``), no Le (case 3)."""
    return Command(0x00, 0xA4, 0x00, 0x00, fid.to_bytes(2, "big"),
                   label=label or f"SELECT {fid:04X}")


def select_aid(aid: bytes, *, label: str = "") -> Command:
    """SELECT by DF name / AID (``00 A4 04 00 Lc <aid>``), no Le (case 3)."""
    return Command(0x00, 0xA4, 0x04, 0x00, aid, label=label or f"SELECT AID {aid.hex().upper()}")


def read_binary_sfi(sfi: int, offset: int = 0, le: int = 256) -> Command:
    """READ BINARY with a short EF identifier (P1 = ``80 | sfi``, P2 = offset)."""
    if not 1 <= sfi <= 30:
        raise ValueError("a short EF identifier is 1..30")
    return Command(0x00, 0xB0, 0x80 | sfi, offset, le=le, label=f"READ BINARY SFI {sfi}")


def get_response(le: int) -> Command:
    """GET RESPONSE (``00 C0 00 00 Le``) after a ``61 XX`` status."""
    return Command(0x00, 0xC0, 0x00, 0x00, le=le or 256, label="GET RESPONSE")


#: ``00 A4 00 00 02 3F 00``
SELECT_MF = select_fid(0x3F00, label="SELECT MF")
#: ``00 B0 82 00 00``
READ_BINARY_SFI2 = read_binary_sfi(2)


def exchange(transport: CardTransport, command: Command, *, max_chain: int = 64) -> Response:
    """Send ``command`` and apply the T=0 ``6C XX`` and ``61 XX`` rules.

    Returns the complete response (data of every GET RESPONSE concatenated) with the
    final status; raises :class:`CardProtocolError` when the card keeps asking for a
    new Le or chains more than ``max_chain`` GET RESPONSEs.
    """
    response = Response.parse(transport.transmit(command.to_bytes()))
    if response.sw1 == 0x6C:
        response = Response.parse(transport.transmit(command.with_le(response.sw2 or 256)
                                                     .to_bytes()))
        if response.sw1 == 0x6C:
            raise CardProtocolError(f"card asked twice for a new Le on {command}")
    data = bytearray(response.data)
    chained = 0
    while response.sw1 == 0x61:
        chained += 1
        if chained > max_chain:
            raise CardProtocolError(f"more than {max_chain} GET RESPONSE on {command}")
        response = Response.parse(transport.transmit(get_response(response.sw2).to_bytes()))
        if response.sw1 == 0x6C:  # the card wants the exact remaining length
            response = Response.parse(transport.transmit(
                get_response(response.sw2).to_bytes()))
        data += response.data
    return Response(bytes(data), response.sw1, response.sw2)
