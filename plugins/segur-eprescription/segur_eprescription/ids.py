"""From what the pharmacist scanned or typed to the prescription's unique id.

What is public (``vitale-eprescription-dp.md`` §5, §8.1): each ordonnance numérique has a
unique id, carried by a QR code and printed under it; in the prescription CDA it is
``<id root="1.2.250.1.215.500.1.1" extension="01S2TBPZ2JCNZZYGHZ"/>``, 18 upper-case
alphanumerics. Its generation rule (a check character?) and the QR payload format are not
public, so the id stays opaque: only its shape is checked. Accepted, as assumptions:

- the id alone, as the QR code or a scanner sends it;
- the id typed from the paper: lower case, spaces, hyphens and dots between groups are
  tolerated (``01s2 tbpz-2jcn zzyg hz``);
- the id next to its OID, as HL7 writes it (``urn:oid:1.2.250.1.215.500.1.1:ID``,
  ``1.2.250.1.215.500.1.1^ID``, ``ID^^^&1.2.250.1.215.500.1.1&ISO``);
- a URL or a structured payload (``key=value`` pairs separated by ``&``, ``;``, ``|``,
  tabs or new lines; JSON-ish text) holding exactly one token of the id's shape, as a
  query value, a path segment or a value.

Anything else is a :class:`~segur_eprescription.errors.ScanError` saying what was wrong;
two different candidate ids in one payload are refused as ambiguous, never guessed.
"""

from __future__ import annotations

import re
import urllib.parse

from segur_eprescription.errors import ScanError

__all__ = ["ID_LENGTH", "PRESCRIPTION_ID_OID", "check_prescription_id", "scan"]

#: The OID of the ordonnance numérique's unique id (``serviceEvent/id/@root``).
PRESCRIPTION_ID_OID = "1.2.250.1.215.500.1.1"
ID_LENGTH = 18
MAX_PAYLOAD = 4096

_ID = re.compile(r"[0-9A-Z]{18}")
_TYPED = re.compile(r"[0-9A-Za-z][0-9A-Za-z .\-]*")
_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9A-Z]{18}(?![0-9A-Za-z])")
_OID = re.escape(PRESCRIPTION_ID_OID)
_NEXT_TO_OID = (
    re.compile(rf"{_OID}[\^:|=/ ]+([0-9A-Za-z]{{18}})(?![0-9A-Za-z])"),
    re.compile(rf"(?<![0-9A-Za-z])([0-9A-Za-z]{{18}})\^+&?{_OID}"),
)
_HINT = "scan the QR code again, or type the 18-character number printed under it"


def check_prescription_id(value: str) -> str:
    """``value`` if it has the shape of a prescription id (18 upper-case alphanumerics),
    else :class:`ScanError`."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ScanError(
            f"not a prescription id: expected {ID_LENGTH} upper-case letters or digits",
            hint=_HINT,
        )
    return value


def scan(payload: str | bytes) -> str:
    """The prescription id in a scanned payload or a typed number (see the module)."""
    text = _text(payload)
    stripped = text.strip()
    if not stripped:
        raise ScanError("the scan is empty", hint=_HINT)
    if _TYPED.fullmatch(stripped):
        compact = re.sub(r"[ .\-]", "", stripped).upper()
        if len(compact) == ID_LENGTH:
            return check_prescription_id(compact)
        if " " not in stripped and "." not in stripped:
            raise ScanError(
                f"a prescription number has {ID_LENGTH} letters or digits, "
                f"this one has {len(compact)}",
                hint=_HINT,
            )
    for pattern in _NEXT_TO_OID:
        found = {m.upper() for m in pattern.findall(text)}
        if found:
            return _one(found)
    candidates = set(_TOKEN.findall(text))
    if "://" in text:
        candidates |= _url_tokens(text)
    if not candidates:
        raise ScanError("no prescription id in the scanned code", hint=_HINT)
    return _one(candidates)


def _text(payload: str | bytes) -> str:
    if isinstance(payload, bytes | bytearray):
        if len(payload) > MAX_PAYLOAD:
            raise ScanError(f"the scanned code is longer than {MAX_PAYLOAD} bytes", hint=_HINT)
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            raise ScanError("the scanned code is not text (UTF-8)", hint=_HINT) from None
    if not isinstance(payload, str):
        raise ScanError("the scanned code is not text", hint=_HINT)
    if len(payload) > MAX_PAYLOAD:
        raise ScanError(f"the scanned code is longer than {MAX_PAYLOAD} characters", hint=_HINT)
    if any((ord(c) < 32 and c not in "\t\r\n") or ord(c) == 127 for c in payload):
        raise ScanError("the scanned code holds control characters", hint=_HINT)
    return payload


def _url_tokens(text: str) -> set[str]:
    """Tokens of the id's shape in a URL's path segments and query values (decoded)."""
    found: set[str] = set()
    for url in re.findall(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+", text):
        try:
            parts = urllib.parse.urlsplit(url)
        except ValueError:
            continue
        values = [urllib.parse.unquote(s) for s in parts.path.split("/")]
        values += [v for _, v in urllib.parse.parse_qsl(parts.query + "&" + parts.fragment)]
        found |= {v for v in values if _ID.fullmatch(v)}
    return found


def _one(candidates: set[str]) -> str:
    if len(candidates) > 1:
        raise ScanError(
            f"the scanned code holds {len(candidates)} different prescription ids",
            hint="scan the QR code of one prescription, or type its number",
        )
    return check_prescription_id(candidates.pop())
