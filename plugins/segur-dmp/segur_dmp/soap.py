"""The DMP's SOAP binding over :mod:`segur_core.wire.soap`: what its envelopes carry and
which DMP error a malformed envelope or a fault becomes.

A request carries ``wsa:Action`` (mustUnderstand), ``MessageID``, ``To`` and a
``wsse:Security`` block with the VIHF; an answer ``RelatesTo`` the request. A fault in a
response becomes :class:`~segur_dmp.errors.SOAPFault` (transient for a ``soap:Receiver``
fault, permanent for ``soap:Sender``); an envelope that is not one, an
:class:`~segur_dmp.errors.MTOMError`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from lxml import etree

from segur_core.wire import soap
from segur_core.wire.errors import SoapFormatError
from segur_core.wire.soap import Envelope
from segur_dmp.errors import MTOMError, SOAPFault
from segur_dmp.mtom import MAX_XML_BYTES

__all__ = ["Envelope", "build_envelope", "build_fault", "parse_envelope"]


def build_envelope(
    action: str,
    to: str,
    body: etree._Element,
    *,
    security: Iterable[etree._Element] = (),
    message_id: str | None = None,
    relates_to: str | None = None,
) -> bytes:
    """A DMP envelope: the addressing headers (a fresh ``MessageID`` unless given) and,
    when there are ``security`` tokens (the VIHF), a ``wsse:Security`` block."""
    headers = soap.addressing(
        action=action,
        message_id=message_id or f"urn:uuid:{uuid.uuid4()}",
        relates_to=relates_to,
        to=to,
    )
    tokens = list(security)
    if tokens:
        headers.append(soap.security(tokens))
    return soap.build_envelope(body, headers)


def build_fault(code: str, reason: str, *, subcode: str | None = None) -> bytes:
    """The sandbox's SOAP 1.2 fault envelope (``code`` is ``Sender`` or ``Receiver``)."""
    return soap.build_fault(code, reason, subcode=subcode)


def parse_envelope(data: bytes, *, raise_fault: bool = True) -> Envelope:
    """Parse a SOAP 1.2 envelope; a ``soap:Fault`` body raises :class:`SOAPFault`."""
    try:
        envelope = soap.parse_envelope(data, max_bytes=MAX_XML_BYTES)
    except SoapFormatError as exc:
        raise MTOMError(exc.message) from None
    fault = envelope.fault if raise_fault else None
    if fault is not None:
        code = fault.code or "soap:Receiver"
        raise SOAPFault(
            (fault.reason or "SOAP fault")[:300],
            service="dmp",
            code=fault.subcode or code,
            transient=code.endswith("Receiver"),
        )
    return envelope
