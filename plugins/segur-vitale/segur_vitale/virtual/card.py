"""ISO 7816-4 virtual cards that answer like the public description of a carte Vitale.

The card logic is transport-agnostic: ``process(apdu) -> response`` is called by the
vpcd client (:mod:`segur_vitale.virtual.vpcd`, through pcscd) or in process by
:class:`~segur_vitale.transport.DirectTransport`. It behaves as a T=0 card: a SELECT
answers ``61 XX`` and its FCI must be fetched with GET RESPONSE, a READ BINARY with a
wrong Le answers ``6C XX`` with the exact length.

File structure (reference §1.2 and §1.3): MF ``3F00`` with EF ``2F00`` (DIR), EF ``2F02``
(PAN) and the holders' civil-status EF (short id 2: one ``65`` template per holder with
``80`` nom, ``81`` prénom, ``82`` date de naissance ``YYYYMMDD``); DF VITALE (AID
``D250000002 'VITALE'``) with EF ``2001`` (POINTERS) and the NIR EF (short id 2: one
``65`` template per holder with ``93`` NIR, same order). [UNCERTAIN] the file
identifiers of the two short-id-2 EFs (``2002`` here), the content of DIR, PAN and
POINTERS, and the FCI/FCP returned by SELECT are not public: they are plausible ISO
7816-4 values, not the GIE's.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from segur_core.model import hidden
from segur_vitale.apdu import AID_VITALE, Command, Response
from segur_vitale.atr import ATR_CPS_3, ATR_VITALE_2
from segur_vitale.errors import CardProtocolError
from segur_vitale.tlv import encode

__all__ = [
    "DF",
    "EF",
    "CardHolder",
    "IsoCard",
    "VirtualCpsCard",
    "VirtualVitaleCard",
    "holders_file",
    "nir_file",
]


@attrs.frozen
class CardHolder:
    """A beneficiary as written on a virtual card (raw card values, not validated)."""

    birth_name: str
    first_name: str
    birth_date: str  # YYYYMMDD, as on the card
    nir: str  # 15 characters: NIR + key
    nationality: str | None = None

    def __repr__(self) -> str:
        return f"CardHolder(<{len(self.birth_name)}-char name>)"


@attrs.define
class EF:
    """A transparent elementary file."""

    fid: int
    content: bytes = attrs.field(repr=hidden)
    sfi: int | None = None


@attrs.define
class DF:
    """A dedicated file (the MF or an application)."""

    fid: int | None
    aid: bytes | None = None
    files: list[EF] = attrs.Factory(list)
    children: list[DF] = attrs.Factory(list)

    def ef_by_sfi(self, sfi: int) -> EF | None:
        return next((ef for ef in self.files if ef.sfi == sfi), None)

    def ef_by_fid(self, fid: int) -> EF | None:
        return next((ef for ef in self.files if ef.fid == fid), None)


class IsoCard:
    """A T=0 ISO 7816-4 card with a file tree: SELECT, READ BINARY, GET RESPONSE."""

    def __init__(self, atr: bytes, mf: DF) -> None:
        self.atr = bytes(atr)
        self.mf = mf
        self.powered = False
        self.apdu_count = 0
        self._reset_state()

    def _reset_state(self) -> None:
        self.current_df: DF | None = None
        self.current_ef: EF | None = None
        self._pending = b""

    def power_on(self) -> None:
        self.powered = True
        self._reset_state()

    def power_off(self) -> None:
        self.powered = False
        self._reset_state()

    def reset(self) -> None:
        self.power_on()

    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU with a response APDU (data + SW1 SW2)."""
        self.apdu_count += 1
        if not self.powered:
            return Response.status(0x6F00).to_bytes()
        try:
            command = Command.parse(apdu)
        except (CardProtocolError, ValueError):
            return Response.status(0x6700).to_bytes()
        if command.cla != 0x00:
            return Response.status(0x6E00).to_bytes()
        if command.ins == 0xC0:
            return self._get_response(command).to_bytes()
        self._pending = b""
        handler = {0xA4: self._select, 0xB0: self._read_binary}.get(command.ins)
        if handler is None:
            return Response.status(0x6D00).to_bytes()
        return handler(command).to_bytes()

    # -- commands ------------------------------------------------------------------------

    def _answer_later(self, data: bytes, command: Command) -> Response:
        """T=0 case 3 with response data: keep it for GET RESPONSE, answer ``61 XX``."""
        if command.p2 & 0x0C == 0x0C or not data:  # "no response data" requested
            return Response.status(0x9000)
        self._pending = data
        return Response.status(0x6100 | (len(data) & 0xFF))

    def _select(self, command: Command) -> Response:
        if command.p1 == 0x00 and len(command.data) == 2:
            fid = int.from_bytes(command.data, "big")
            if fid == 0x3F00:
                self.current_df, self.current_ef = self.mf, None
                return self._answer_later(self._fcp_df(0x3F00), command)
            where = self.current_df or self.mf
            ef = where.ef_by_fid(fid)
            if ef is not None:
                self.current_ef = ef
                return self._answer_later(self._fcp_ef(ef), command)
            return Response.status(0x6A82)
        if command.p1 == 0x04 and command.data:
            app = next((df for df in self.mf.children if df.aid == command.data), None)
            if app is None:
                return Response.status(0x6A82)
            self.current_df, self.current_ef = app, None
            return self._answer_later(encode(0x6F, [encode(0x84, app.aid or b"")]), command)
        if command.p1 in (0x00, 0x04):
            return Response.status(0x6700)
        return Response.status(0x6A86)

    def _read_binary(self, command: Command) -> Response:
        if self.current_df is None:
            return Response.status(0x6986)
        if command.p1 & 0x80:
            if command.p1 & 0x60:
                return Response.status(0x6A86)
            ef = self.current_df.ef_by_sfi(command.p1 & 0x1F)
            if ef is None:
                return Response.status(0x6A82)
            self.current_ef = ef
            offset = command.p2
        else:
            if self.current_ef is None:
                return Response.status(0x6986)
            ef, offset = self.current_ef, (command.p1 << 8) | command.p2
        if offset > len(ef.content):
            return Response.status(0x6B00)
        available = min(len(ef.content) - offset, 256)
        le = command.le if command.le is not None else 256
        if le > available:
            if available == 0:
                return Response.status(0x6282)
            return Response.status(0x6C00 | (available & 0xFF))
        return Response(ef.content[offset:offset + le], 0x90, 0x00)

    def _get_response(self, command: Command) -> Response:
        if not self._pending:
            return Response.status(0x6985)
        le = command.le if command.le is not None else 256
        if le > len(self._pending):
            return Response.status(0x6C00 | (len(self._pending) & 0xFF))
        data, self._pending = self._pending[:le], self._pending[le:]
        if self._pending:
            return Response(data, 0x61, len(self._pending) & 0xFF)
        return Response(data, 0x90, 0x00)

    @staticmethod
    def _fcp_df(fid: int) -> bytes:
        return encode(0x62, [encode(0x82, b"\x38"), encode(0x83, fid.to_bytes(2, "big"))])

    @staticmethod
    def _fcp_ef(ef: EF) -> bytes:
        return encode(0x62, [encode(0x80, len(ef.content).to_bytes(2, "big")),
                             encode(0x82, b"\x01"), encode(0x83, ef.fid.to_bytes(2, "big"))])


def _text(value: str) -> bytes:
    return value.encode("latin-1")


def holders_file(holders: Sequence[CardHolder]) -> bytes:
    """The civil-status EF of the MF: ``65`` {``80`` nom, ``81`` prénom, ``82`` date}."""
    return b"".join(
        encode(0x65, [encode(0x80, _text(h.birth_name)), encode(0x81, _text(h.first_name)),
                      encode(0x82, _text(h.birth_date))])
        for h in holders)


def nir_file(holders: Sequence[CardHolder]) -> bytes:
    """The NIR EF of the VITALE application: ``65`` {[``90`` nationalité], ``93`` NIR}."""
    out = []
    for h in holders:
        parts = [encode(0x90, _text(h.nationality))] if h.nationality else []
        out.append(encode(0x65, [*parts, encode(0x93, _text(h.nir))]))
    return b"".join(out)


class VirtualVitaleCard(IsoCard):
    """A carte Vitale 2 with the given beneficiaries (first = the insured person).

    ``holders_data``/``nir_data`` replace the generated EF contents, to build damaged
    cards (malformed TLV, missing tags) for the bad-input tests.
    """

    def __init__(self, holders: Sequence[CardHolder], *, atr: bytes = ATR_VITALE_2,
                 holders_data: bytes | None = None, nir_data: bytes | None = None,
                 padding: int = 0) -> None:
        self.holders = tuple(holders)
        civil = holders_file(self.holders) if holders_data is None else holders_data
        nirs = nir_file(self.holders) if nir_data is None else nir_data
        pad = b"\xff" * padding  # fixed-size EFs are padded (ISO 7816-4 allows 00/FF)
        pointers = encode(0x70, [encode(0x80, b"\x20\x02")])  # [UNCERTAIN] content
        vitale = DF(0x2000, AID_VITALE, files=[EF(0x2001, pointers, sfi=1),
                                               EF(0x2002, nirs + pad, sfi=2)])
        dir_record = encode(0x61, [encode(0x4F, AID_VITALE), encode(0x50, b"VITALE")])
        mf = DF(0x3F00, files=[EF(0x2F00, dir_record), EF(0x2F02, b"\x00" * 8),
                               EF(0x2002, civil + pad, sfi=2)], children=[vitale])
        super().__init__(atr, mf)


class VirtualCpsCard(IsoCard):
    """A CPS-like card: the CPS 3 ATR and no Vitale files (SELECT MF is refused,
    as the reference says of a CPS read with the Vitale sequence)."""

    def __init__(self, *, atr: bytes = ATR_CPS_3) -> None:
        super().__init__(atr, DF(None))

    def _select(self, command: Command) -> Response:
        return Response.status(0x6A82)
