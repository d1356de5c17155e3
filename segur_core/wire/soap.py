"""SOAP 1.2 envelopes with WS-Addressing and ``wsse:Security``: building, reading, faults.

What every SOAP service of the Ségur perimeter shares (INSi, DMP...): the envelope, the
addressing headers, the security header, and the SOAP 1.2 fault. What a service adds
(INSi's ``ContexteLPS``/``ContexteBAM``, DMP's ebXML bodies, MTOM packaging) stays in
its plugin, which passes its header blocks and body here.

Two ways to build a request: :func:`build_envelope` from lxml elements, and
:func:`envelope_text` from already-serialised parts, for a fixed-shape request on a hot
path (INSi batch qualification writes its envelopes as text). Reading is
:func:`parse_envelope` (hardened parser, size-capped); a ``soap:Fault`` payload is read
into a :class:`Fault` value that the plugin turns into its own typed error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs
from lxml import etree

from segur_core.safexml import DEFAULT_MAX_BYTES, parse_xml
from segur_core.wire.errors import SoapFormatError

__all__ = [
    "NS",
    "SOAP12",
    "WSA",
    "WSSE",
    "Envelope",
    "Fault",
    "addressing",
    "build_envelope",
    "build_fault",
    "envelope_text",
    "fault_element",
    "parse_envelope",
    "read_fault",
    "security",
    "serialise",
]

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: The prefixes the envelopes use.
NS = {"soap": SOAP12, "wsa": WSA, "wsse": WSSE}


def _soap(name: str) -> str:
    return f"{{{SOAP12}}}{name}"


def _wsa(name: str) -> str:
    return f"{{{WSA}}}{name}"


# -- building ------------------------------------------------------------------------------


def addressing(
    *,
    action: str | None = None,
    message_id: str | None = None,
    relates_to: str | None = None,
    to: str | None = None,
    must_understand: bool = True,
) -> list[etree._Element]:
    """The WS-Addressing header blocks, in the order ``Action``, ``MessageID``,
    ``RelatesTo``, ``To`` (those given); ``Action`` marked ``mustUnderstand`` unless
    ``must_understand`` is false."""
    blocks = []
    if action is not None:
        act = etree.Element(_wsa("Action"))
        if must_understand:
            act.set(_soap("mustUnderstand"), "true")
        act.text = action
        blocks.append(act)
    for name, value in (("MessageID", message_id), ("RelatesTo", relates_to), ("To", to)):
        if value:
            element = etree.Element(_wsa(name))
            element.text = value
            blocks.append(element)
    return blocks


def security(tokens: Iterable[etree._Element]) -> etree._Element:
    """A ``wsse:Security`` header block (``mustUnderstand``) holding ``tokens`` (signed
    SAML assertions)."""
    block = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
    block.set(_soap("mustUnderstand"), "true")
    block.extend(tokens)
    return block


def serialise(envelope: etree._Element) -> bytes:
    """An envelope as UTF-8 bytes with an XML declaration."""
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def build_envelope(body: etree._Element, headers: Sequence[etree._Element] | None = ()) -> bytes:
    """A SOAP 1.2 envelope holding ``body`` and the ``headers`` blocks.

    ``headers=None`` leaves the ``soap:Header`` out; an envelope with a header declares
    the ``wsa`` prefix on its root (where addressing headers take it from).
    """
    nsmap = {"soap": SOAP12} if headers is None else {"soap": SOAP12, "wsa": WSA}
    env = etree.Element(_soap("Envelope"), nsmap=nsmap)
    if headers is not None:
        etree.SubElement(env, _soap("Header")).extend(headers)
    etree.SubElement(env, _soap("Body")).append(body)
    return serialise(env)


def envelope_text(header: str, body: str) -> bytes:
    """The same envelope as :func:`build_envelope` (with a header) from serialised
    ``header`` blocks and ``body``, both already well-formed XML text."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<soap:Envelope xmlns:soap="{SOAP12}" xmlns:wsa="{WSA}"><soap:Header>{header}'
        f"</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def fault_element(
    code: str,
    reason: str,
    *,
    subcode: str | None = None,
    subcode_nsmap: Mapping[str, str] | None = None,
    lang: str = "en",
    detail: etree._Element | None = None,
) -> etree._Element:
    """A ``soap:Fault`` element. ``code`` is ``Sender`` or ``Receiver``; ``subcode`` a
    QName text (its prefix declared by ``subcode_nsmap``); ``detail`` goes in
    ``soap:Detail``."""
    fault = etree.Element(_soap("Fault"), nsmap={"soap": SOAP12})
    code_el = etree.SubElement(fault, _soap("Code"))
    etree.SubElement(code_el, _soap("Value")).text = f"soap:{code}"
    if subcode:
        sub = etree.SubElement(code_el, _soap("Subcode"))
        value = etree.SubElement(sub, _soap("Value"), nsmap=dict(subcode_nsmap or {}))
        value.text = subcode
    text = etree.SubElement(etree.SubElement(fault, _soap("Reason")), _soap("Text"))
    text.text = reason
    text.set(_XML_LANG, lang)
    if detail is not None:
        etree.SubElement(fault, _soap("Detail")).append(detail)
    return fault


def build_fault(
    code: str,
    reason: str,
    *,
    subcode: str | None = None,
    headers: Sequence[etree._Element] | None = None,
    **options,
) -> bytes:
    """A SOAP 1.2 fault envelope (see :func:`fault_element` for ``options``); for
    sandboxes, which answer what the real services answer."""
    return build_envelope(fault_element(code, reason, subcode=subcode, **options), headers)


# -- reading -------------------------------------------------------------------------------


@attrs.frozen
class Fault:
    """A ``soap:Fault``: its ``code`` (``Code/Value`` text, ``soap:Sender``...), its first
    ``subcode`` (``Code/Subcode/Value``), ``reason`` (first ``Reason/Text``) and the
    ``detail`` element when there is one."""

    code: str
    subcode: str | None
    reason: str
    detail: etree._Element | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def receiver(self) -> bool:
        """Whether the fault blames the service (``soap:Receiver``), not the request."""
        return self.code.endswith("Receiver")


def read_fault(element: etree._Element) -> Fault:
    """The :class:`Fault` of a ``soap:Fault`` element (texts stripped)."""
    code = (element.findtext(f"{_soap('Code')}/{_soap('Value')}") or "").strip()
    sub = element.findtext(f"{_soap('Code')}/{_soap('Subcode')}/{_soap('Value')}")
    reason = (element.findtext(f"{_soap('Reason')}/{_soap('Text')}") or "").strip()
    return Fault(
        code=code,
        subcode=sub.strip() if sub and sub.strip() else None,
        reason=reason,
        detail=element.find(_soap("Detail")),
    )


@attrs.frozen
class Envelope:
    """A parsed SOAP 1.2 envelope: its addressing headers, header and body payload
    (the one element of ``soap:Body``)."""

    root: etree._Element
    header: etree._Element | None
    body: etree._Element
    action: str | None
    message_id: str | None
    relates_to: str | None
    to: str | None

    @property
    def fault(self) -> Fault | None:
        """The fault the body holds, if it is one."""
        return read_fault(self.body) if self.body.tag == _soap("Fault") else None

    def security(self) -> etree._Element | None:
        """The ``wsse:Security`` header block, if any."""
        if self.header is None:
            return None
        return self.header.find(f"{{{WSSE}}}Security")


_ENVELOPE, _HEADER, _BODY = _soap("Envelope"), _soap("Header"), _soap("Body")
#: The addressing headers read from every envelope, by tag.
_ADDRESSING = {_wsa(name): name for name in ("Action", "MessageID", "RelatesTo", "To")}


def _first_children(parent: etree._Element, tags) -> dict[str, etree._Element]:
    """The first child element of ``parent`` with each of ``tags``: one pass in which
    lxml skips comments and processing instructions."""
    found: dict[str, etree._Element] = {}
    for child in parent.iterchildren(etree.Element):
        if child.tag in tags:
            found.setdefault(child.tag, child)
    return found


def parse_envelope(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Envelope:
    """Parse a SOAP 1.2 envelope with the hardened parser.

    Raises :class:`~segur_core.errors.UnsafeXMLError` for bytes that are not acceptable
    XML and :class:`SoapFormatError` for XML that is not an envelope with exactly one
    body element. A fault is returned like any payload (see :attr:`Envelope.fault`).
    """
    root = parse_xml(data, max_bytes=max_bytes)
    if root.tag != _ENVELOPE:
        raise SoapFormatError(f"not a SOAP 1.2 envelope (root {etree.QName(root).localname!r})")
    parts = _first_children(root, (_HEADER, _BODY))
    header = parts.get(_HEADER)
    body = parts.get(_BODY)
    if body is None:
        raise SoapFormatError("SOAP envelope without a Body")
    if len(body) != 1:
        raise SoapFormatError("SOAP Body must hold exactly one element")
    texts: dict[str, str | None] = dict.fromkeys(_ADDRESSING.values())
    if header is not None:
        for tag, element in _first_children(header, _ADDRESSING).items():
            texts[_ADDRESSING[tag]] = element.text.strip() if element.text else None
    return Envelope(
        root=root,
        header=header,
        body=body[0],
        action=texts["Action"],
        message_id=texts["MessageID"],
        relates_to=texts["RelatesTo"],
        to=texts["To"],
    )
