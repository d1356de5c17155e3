"""HL7 v2 values in XDS metadata: escaping, the French XCN/XON/CX/PID forms, and the
ebRIM 3.0 length limits they must fit.

XDS carries HL7 v2 data types in ebRIM slots (authorPerson XCN, authorInstitution XON,
authorRole, authorSpecialty, legalAuthenticator XCN, sourcePatientInfo ``PID-5|`` XPN...).
Free text in them (names, an organisation's name, a display name) is escaped with the
HL7 v2 escape sequences (v2.5 §2.7.4, default encoding characters ``|^~\\&``):

==========  =========
character   sequence
==========  =========
``|``       ``\\F\\``
``^``       ``\\S\\``
``&``       ``\\T\\``
``~``       ``\\R\\``
``\\``       ``\\E\\``
==========  =========

and a control character (a line break in a name) as ``\\Xhh\\``. Unescaped, a ``^``
in an organisation's name shifts the XON's components and the registry reads another
identifier.

Length limits (ebRS 3.0 ``rim.xsd``): a slot ``Value``, a ``nodeRepresentation`` and an
``ExternalIdentifier`` value are ``LongName`` (256 characters); a ``LocalizedString``
(``Name``: the document's title) is ``FreeFormText`` (1,024). The rule for what does
not fit, applied on the client side and visible in the values themselves:

- a title longer than 1,024 characters is cut to 1,023 and ends with ``…``
  (:func:`fit_text`);
- the free text of an HL7 v2 value (names, the organisation's name, a display name) is
  cut, longest first, until the escaped value fits in 256 characters; an escape
  sequence is never split and identifiers are never cut (:func:`fit_components`). A
  value whose identifiers alone do not fit is refused (:class:`MetadataLimitError`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from segur_core.errors import DocumentError

__all__ = [
    "ELLIPSIS",
    "FREE_FORM_TEXT",
    "LONG_NAME",
    "SHORT_NAME",
    "Hl7v2Error",
    "MetadataLimitError",
    "coded",
    "components",
    "escape",
    "fit_components",
    "fit_text",
    "pid5",
    "problems",
    "text_value",
    "unescape",
    "xcn",
    "xon",
]

#: ebRS 3.0 rim.xsd maxLength of LongName (slot values, codes, identifiers)
LONG_NAME = 256
#: ebRS 3.0 rim.xsd maxLength of ShortName
SHORT_NAME = 64
#: ebRS 3.0 rim.xsd maxLength of FreeFormText (LocalizedString: titles, names)
FREE_FORM_TEXT = 1024
#: what ends a shortened title
ELLIPSIS = "…"

_ESCAPES = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}
_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}
_SPECIAL = re.compile(r"[\\|^&~\x00-\x1f\x7f]")
_SEQUENCE = re.compile(r"\\([^\\]*)\\")


class Hl7v2Error(DocumentError):
    """An HL7 v2 value is malformed (an unknown or unterminated escape sequence)."""


class MetadataLimitError(DocumentError):
    """A metadata value cannot fit its ebRIM length limit (its identifiers alone are
    too long); ``slot`` names it."""

    def __init__(self, slot: str, limit: int) -> None:
        super().__init__(
            f"XDS metadata {slot} does not fit the ebRIM limit of {limit} characters",
            hint="its identifiers are too long: check the structure's configuration",
        )
        self.slot = slot
        self.limit = limit


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ESCAPES.get(char) or f"\\X{ord(char):02X}\\"


def escape(text: str) -> str:
    """``text`` with the HL7 v2 separators and control characters escaped."""
    return _SPECIAL.sub(_escape_char, text)


def _unescape_sequence(match: re.Match[str]) -> str:
    body = match.group(1)
    if body in _UNESCAPES:
        return _UNESCAPES[body]
    if body.startswith("X") and len(body) >= 3 and len(body) % 2 == 1:
        try:
            return bytes.fromhex(body[1:]).decode("latin-1")
        except ValueError:
            pass
    raise Hl7v2Error("HL7 v2 value with an unknown escape sequence")


def unescape(value: str) -> str:
    """The text an escaped HL7 v2 component holds; raises :class:`Hl7v2Error` for an
    unknown or unterminated escape sequence."""
    text = _SEQUENCE.sub(_unescape_sequence, value)
    if "\\" in _SEQUENCE.sub("", value):
        raise Hl7v2Error("HL7 v2 value with an unterminated escape sequence")
    return text


def components(value: str, separator: str = "^") -> list[str]:
    """The components of an escaped HL7 v2 value (escape sequences never hold a raw
    separator, so a plain split is exact)."""
    return value.split(separator)


def _cut(text: str, size: int) -> str:
    """The longest prefix of ``text`` whose escaped form is at most ``size`` long."""
    out = []
    used = 0
    for char in text:
        width = len(escape(char))
        if used + width > size:
            break
        out.append(char)
        used += width
    return "".join(out).rstrip()


def fit_components(
    template: str, texts: Sequence[str], *, slot: str, limit: int = LONG_NAME
) -> str:
    """``template`` (``str.format`` fields ``{0}``, ``{1}``...) filled with the escaped
    ``texts``, cut longest first until the value is at most ``limit`` characters.
    The template (identifiers, OIDs) is never cut; raises :class:`MetadataLimitError`
    when it alone does not fit."""
    fixed = len(template.format(*([""] * len(texts))))
    if fixed > limit:
        raise MetadataLimitError(slot, limit)
    kept = list(texts)
    sizes = [len(escape(t)) for t in kept]
    excess = fixed + sum(sizes) - limit
    while excess > 0:
        longest = max(range(len(kept)), key=lambda i: sizes[i])
        kept[longest] = _cut(kept[longest], max(sizes[longest] - excess, 0))
        sizes[longest] = len(escape(kept[longest]))
        excess = fixed + sum(sizes) - limit
    return template.format(*(escape(t) for t in kept))


def fit_text(text: str, limit: int = FREE_FORM_TEXT) -> str:
    """``text`` as it fits in ``limit`` characters: unchanged, or cut to ``limit - 1``
    characters ending with :data:`ELLIPSIS`."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def xcn(idnat: str, family: str, given: str, oid: str, *, slot: str = "authorPerson") -> str:
    """A French XCN: ``<idnat>^<NOM>^<Prénom>^^^^^^&<oid>&ISO^D^^^IDNPS``, names escaped
    and cut to fit :data:`LONG_NAME`."""
    template = _fixed(idnat) + "^{0}^{1}^^^^^^&" + _fixed(oid) + "&ISO^D^^^IDNPS"
    return fit_components(template, (family, given), slot=slot)


def xon(name: str, idnst: str, oid: str, *, slot: str = "authorInstitution") -> str:
    """A French XON: ``<Raison sociale>^^^^^&<oid>&ISO^IDNST^^^<idnst>``, the name escaped
    and cut to fit :data:`LONG_NAME`."""
    template = "{0}^^^^^&" + _fixed(oid) + "&ISO^IDNST^^^" + _fixed(idnst)
    return fit_components(template, (name,), slot=slot)


def coded(code: str, display: str, scheme: str, *, slot: str = "authorSpecialty") -> str:
    """A coded value ``<code>^<display>^<scheme>`` (authorSpecialty), the display escaped
    and cut to fit :data:`LONG_NAME`."""
    template = _fixed(code) + "^{0}^" + _fixed(scheme)
    return fit_components(template, (display,), slot=slot)


def text_value(text: str, *, slot: str) -> str:
    """A free-text HL7 v2 value (an ST such as authorRole), escaped and cut to fit."""
    return fit_components("{0}", (text,), slot=slot)


def pid5(family: str, given: str) -> str:
    """The ``sourcePatientInfo`` PID-5 value ``PID-5|<NOM>^<Prénom>^^^^^L``, names
    escaped and cut to fit :data:`LONG_NAME`."""
    return fit_components("PID-5|{0}^{1}^^^^^L", (family, given), slot="sourcePatientInfo")


# -- what a registry checks ----------------------------------------------------------------

#: slot name → (components expected, index → (required literal or None for non-empty))
_SHAPES: dict[str, tuple[int, dict[int, str | None]]] = {
    "authorPerson": (13, {0: None, 9: "D", 12: "IDNPS"}),
    "legalAuthenticator": (13, {0: None, 9: "D", 12: "IDNPS"}),
    "authorInstitution": (10, {6: "IDNST", 9: None}),
    "authorSpecialty": (3, {0: None, 2: None}),
}
_AUTHORITY = {"authorPerson": 8, "legalAuthenticator": 8, "authorInstitution": 5}


def problems(slot: str, value: str) -> list[str]:
    """Why ``value`` is not a well-formed HL7 v2 value of ``slot`` as a registry reads
    it (no text: no patient data): length, escape sequences, repetitions, components."""
    found = []
    if len(value) > LONG_NAME:
        found.append(f"{slot} longer than {LONG_NAME} characters")
    body = value
    if slot == "sourcePatientInfo":
        field, bar, body = value.partition("|")
        if not bar or not re.fullmatch(r"PID-\d{1,2}", field):
            return [*found, "sourcePatientInfo is not PID-n|value"]
    try:
        for part in re.split(r"[|^&]", body):
            unescape(part)
    except Hl7v2Error:
        found.append(f"{slot} has an invalid escape sequence")
    if "|" in body or "~" in body:
        found.append(f"{slot} has an unescaped | or ~ (one value, one item)")
    shape = _SHAPES.get(slot)
    if shape is None:
        return found
    count, expected = shape
    parts = components(body)
    if len(parts) != count:
        return [*found, f"{slot} has {len(parts)} components, not {count}"]
    for index, literal in expected.items():
        if (literal is None and not parts[index]) or (literal and parts[index] != literal):
            found.append(f"{slot} component {index + 1} is not as expected")
    if slot == "authorInstitution" and "&" in parts[0]:  # XON.1 is an ST: no subcomponent
        found.append(f"{slot} organisation name has an unescaped &")
    authority = _AUTHORITY.get(slot)
    if authority is not None:
        sub = parts[authority].split("&")
        if len(sub) != 3 or not sub[1] or sub[2] != "ISO":
            found.append(f"{slot} assigning authority is not &<OID>&ISO")
    return found


def _fixed(text: str) -> str:
    """An identifier, escaped, safe inside a ``str.format`` template."""
    return escape(text).replace("{", "{{").replace("}", "}}")
