"""SOAP 1.2 envelopes with WS-Addressing and ``wsse:Security`` headers, and their parsing.

A fault in a response becomes :class:`~segur_dmp.errors.SOAPFault` (transient for a
``soap:Receiver`` fault, permanent for ``soap:Sender``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import attrs
from lxml import etree

from segur_core.safexml import parse_xml
from segur_dmp.errors import MTOMError, SOAPFault
from segur_dmp.mtom import MAX_XML_BYTES
from segur_dmp.ns import NS

__all__ = ["Envelope", "build_envelope", "build_fault", "parse_envelope", "q"]


def q(prefix: str, name: str) -> str:
    """Clark notation ``{namespace}name`` for a known prefix."""
    return f"{{{NS[prefix]}}}{name}"


@attrs.frozen
class Envelope:
    """A parsed SOAP 1.2 envelope: its addressing headers, its header and body payload."""

    root: etree._Element
    header: etree._Element | None
    body: etree._Element
    action: str | None
    message_id: str | None
    relates_to: str | None
    to: str | None

    def security(self) -> etree._Element | None:
        """The ``wsse:Security`` header block, if any."""
        if self.header is None:
            return None
        return self.header.find(q("wsse", "Security"))


def build_envelope(
    action: str,
    to: str,
    body: etree._Element,
    *,
    security: Iterable[etree._Element] = (),
    message_id: str | None = None,
    relates_to: str | None = None,
) -> bytes:
    """A SOAP 1.2 envelope with ``wsa:Action`` (mustUnderstand), ``MessageID``, ``To``
    and a ``wsse:Security`` block holding ``security`` (the VIHF assertion)."""
    env = etree.Element(q("soap", "Envelope"), nsmap={"soap": NS["soap"], "wsa": NS["wsa"]})
    header = etree.SubElement(env, q("soap", "Header"))
    act = etree.SubElement(header, q("wsa", "Action"))
    act.set(q("soap", "mustUnderstand"), "true")
    act.text = action
    etree.SubElement(header, q("wsa", "MessageID")).text = message_id or f"urn:uuid:{uuid.uuid4()}"
    if relates_to:
        etree.SubElement(header, q("wsa", "RelatesTo")).text = relates_to
    etree.SubElement(header, q("wsa", "To")).text = to
    tokens = list(security)
    if tokens:
        sec = etree.SubElement(header, q("wsse", "Security"), nsmap={"wsse": NS["wsse"]})
        sec.set(q("soap", "mustUnderstand"), "true")
        sec.extend(tokens)
    etree.SubElement(env, q("soap", "Body")).append(body)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def build_fault(code: str, reason: str, *, subcode: str | None = None) -> bytes:
    """A SOAP 1.2 fault envelope (``code`` is ``Sender`` or ``Receiver``)."""
    env = etree.Element(q("soap", "Envelope"), nsmap={"soap": NS["soap"]})
    fault = etree.SubElement(etree.SubElement(env, q("soap", "Body")), q("soap", "Fault"))
    code_el = etree.SubElement(fault, q("soap", "Code"))
    etree.SubElement(code_el, q("soap", "Value")).text = f"soap:{code}"
    if subcode:
        sub = etree.SubElement(code_el, q("soap", "Subcode"))
        etree.SubElement(sub, q("soap", "Value")).text = subcode
    text = etree.SubElement(etree.SubElement(fault, q("soap", "Reason")), q("soap", "Text"))
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = reason
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def _text(parent: etree._Element | None, tag: str) -> str | None:
    if parent is None:
        return None
    el = parent.find(tag)
    return el.text.strip() if el is not None and el.text else None


def parse_envelope(data: bytes, *, raise_fault: bool = True) -> Envelope:
    """Parse a SOAP 1.2 envelope; a ``soap:Fault`` body raises :class:`SOAPFault`."""
    root = parse_xml(data, max_bytes=MAX_XML_BYTES)
    if root.tag != q("soap", "Envelope"):
        raise MTOMError(f"not a SOAP 1.2 envelope (root {etree.QName(root).localname!r})")
    header = root.find(q("soap", "Header"))
    body = root.find(q("soap", "Body"))
    if body is None or len(body) != 1:
        raise MTOMError("SOAP Body must hold exactly one element")
    payload = body[0]
    if raise_fault and payload.tag == q("soap", "Fault"):
        value = _text(payload.find(q("soap", "Code")), q("soap", "Value")) or "soap:Receiver"
        sub = payload.find(f"{q('soap', 'Code')}/{q('soap', 'Subcode')}/{q('soap', 'Value')}")
        reason = _text(payload.find(q("soap", "Reason")), q("soap", "Text")) or "SOAP fault"
        raise SOAPFault(
            reason[:300],
            service="dmp",
            code=(sub.text.strip() if sub is not None and sub.text else value),
            transient=value.endswith("Receiver"),
        )
    return Envelope(
        root=root,
        header=header,
        body=payload,
        action=_text(header, q("wsa", "Action")),
        message_id=_text(header, q("wsa", "MessageID")),
        relates_to=_text(header, q("wsa", "RelatesTo")),
        to=_text(header, q("wsa", "To")),
    )
