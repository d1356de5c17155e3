"""Reading INSi answers: ``RESULTAT`` bodies and SOAP 1.2 faults (the envelope and the
fault are read by :mod:`segur_core.wire.soap`; their INSi meaning is here).

The parser is lenient where the real service is sloppy (CNDA answers put ``INSHISTO``
children out of the XSD order, or a ``DateDeb`` after its ``DateFin``, or a key that
does not check) and strict where it matters: the envelope, the ``CR`` code, the INS of an
``INDIVIDU`` and its traits. Anything else raises an :class:`InsiError` subclass.
"""

from __future__ import annotations

import datetime as dt

import attrs
from lxml import etree

from segur_core.errors import UnsafeXMLError
from segur_core.model import INS, BirthDate, IdentityTraits, Sex
from segur_core.wire import soap
from segur_core.wire.errors import SoapFormatError
from segur_ins.insi.errors import InsiFault, InsiProtocolError, InsiUnavailable, fault_class
from segur_ins.insi.namespaces import NS

__all__ = [
    "CR_MULTIPLE",
    "CR_NOT_FOUND",
    "CR_OK",
    "HistoricINS",
    "InsiIdentity",
    "InsiResult",
    "parse_fault",
    "parse_response",
]

CR_OK, CR_NOT_FOUND, CR_MULTIPLE = "00", "01", "02"

_FAULT = f"{{{soap.SOAP12}}}Fault"
_RES = NS["resultat"]


@attrs.frozen
class HistoricINS:
    """A former INS of the person (``INSHISTO``) with its validity dates when given."""

    ins: INS
    start: dt.date | None = None
    end: dt.date | None = None


@attrs.frozen
class InsiIdentity:
    """The identity INSi returned: the active INS, the former ones and the qualified
    traits (``TIQ``). ``traits.first_names`` is ``ListePrenom`` split on spaces."""

    ins: INS
    traits: IdentityTraits
    history: tuple[HistoricINS, ...] = attrs.field(default=(), converter=tuple)


@attrs.frozen
class InsiResult:
    """One INSi answer: ``code`` (``00`` found, ``01`` none, ``02`` several), its label
    and the identity when ``code`` is ``00``. ``attempts`` is the number of requests the
    search took (the first-name strategy, a carte Vitale search retried by traits); the
    answer is the last one's."""

    code: str
    label: str
    identity: InsiIdentity | None = None
    operation: str | None = None
    message_id: str | None = None
    attempts: int = 1

    @property
    def found(self) -> bool:
        return self.code == CR_OK and self.identity is not None


def _named(parent: etree._Element) -> dict[str, etree._Element]:
    """The children of ``parent`` by local name (the first of each name): one pass over
    its elements (comments and processing instructions skipped in C), whatever
    namespace the service put them in."""
    named: dict[str, etree._Element] = {}
    for child in parent.iterchildren(etree.Element):
        named.setdefault(child.tag.rpartition("}")[2], child)
    return named


def _text(
    named: dict[str, etree._Element], local: str, *, required: bool = False, where: str = ""
) -> str:
    element = named.get(local)
    value = (element.text or "").strip() if element is not None else ""
    if required and not value:
        raise InsiProtocolError(f"INSi answer without {where}{local}")
    return value


def _date(text: str, what: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InsiProtocolError(f"INSi answer with an invalid {what}") from exc


def _ins(element: etree._Element, what: str) -> tuple[INS, dt.date | None, dt.date | None]:
    named = _named(element)
    ident = named.get("IdIndividu")
    if ident is None:
        raise InsiProtocolError(f"INSi answer without {what}/IdIndividu")
    ident_named = _named(ident)
    number = _text(ident_named, "NumIdentifiant", required=True, where=f"{what}/")
    key = _text(ident_named, "Cle")
    if len(number) != 13 or not number.isascii() or not number.isalnum():
        raise InsiProtocolError(f"INSi answer with a malformed {what} matricule")
    if key:
        if len(key) != 2 or not key.isdigit():
            raise InsiProtocolError(f"INSi answer with a malformed {what} key")
    else:  # the key is optional in the XSD: compute it (97 - n mod 97)
        digits = number.upper().replace("2A", "19", 1).replace("2B", "18", 1)
        if not digits.isdigit():
            raise InsiProtocolError(f"INSi answer with a malformed {what} matricule")
        key = f"{97 - int(digits) % 97:02d}"
    oid = _text(named, "OID", required=True, where=f"{what}/")
    start = _date(_text(named, "DateDeb"), f"{what} start date")
    end = _date(_text(named, "DateFin"), f"{what} end date")
    return INS(matricule=number.upper() + key, oid=oid), start, end


def _traits(tiq: etree._Element) -> IdentityTraits:
    named = _named(tiq)
    birth_name = _text(named, "NomNaissance", required=True, where="TIQ/")
    names = _text(named, "ListePrenom") or _text(named, "Prenom")
    first_names = tuple(names.split())
    if not first_names:
        raise InsiProtocolError("INSi answer without TIQ/ListePrenom")
    sex_text = _text(named, "Sexe", required=True, where="TIQ/")
    try:
        sex = Sex(sex_text)
        birth_date = BirthDate.parse(_text(named, "DateNaissance", required=True, where="TIQ/"))
    except ValueError as exc:
        raise InsiProtocolError("INSi answer with an invalid sex or birth date") from exc
    birth_place = _text(named, "LieuNaissance") or None
    if birth_place is not None and (
        len(birth_place) != 5 or not birth_place.isascii() or not birth_place.isalnum()
    ):
        raise InsiProtocolError("INSi answer with a malformed birth place code")
    return IdentityTraits(
        birth_name=birth_name,
        first_names=first_names,
        sex=sex,
        birth_date=birth_date,
        birth_place=birth_place,
    )


def _individu(element: etree._Element) -> InsiIdentity:
    active = tiq = None
    histos = []
    for child in element.iterchildren(etree.Element):
        local = child.tag.rpartition("}")[2]
        if local == "INSACTIF" and active is None:
            active = child
        elif local == "TIQ" and tiq is None:
            tiq = child
        elif local == "INSHISTO":
            histos.append(child)
    if active is None or tiq is None:
        raise InsiProtocolError("INSi answer INDIVIDU without INSACTIF or TIQ")
    ins, _, _ = _ins(active, "INSACTIF")
    history = []
    for histo in histos:
        old, start, end = _ins(histo, "INSHISTO")
        history.append(HistoricINS(old, start, end))
    return InsiIdentity(ins=ins, traits=_traits(tiq), history=tuple(history))


def parse_fault(fault: etree._Element) -> InsiFault:
    """The typed error for a SOAP 1.2 ``Fault`` element (not raised)."""
    read = soap.read_fault(fault)
    reason = read.reason
    sender = not read.receiver
    subcode = read.subcode.rpartition(":")[2] if read.subcode else None
    code = severity = None
    if read.detail is not None:
        erreur = read.detail.find(f"{{{NS['siram']}}}Erreur")
        if erreur is not None:
            code = erreur.get("code")
            severity = erreur.get("severite")
        else:  # newer packages: Detail/{Code, Severite, Descriptif}
            named = _named(read.detail)
            code = _text(named, "Code") or None
            severity = _text(named, "Severite") or None
            reason = reason or _text(named, "Descriptif")
    cls, transient = fault_class(code or subcode)
    label = code or subcode or "unknown"
    return cls(
        f"INSi refused the request ({label}): {reason[:200] or 'no reason given'}",
        code=code or subcode,
        subcode=subcode,
        severity=severity,
        reason=reason,
        sender=sender,
        transient=transient,
    )


def _unavailable(status_code: int) -> InsiUnavailable:
    return InsiUnavailable(f"INSi answered HTTP {status_code}", code=f"http_{status_code}")


def parse_response(
    data: bytes, *, status_code: int = 200, operation: str | None = None
) -> InsiResult:
    """Parse an INSi HTTP answer into an :class:`InsiResult`.

    Raises the typed fault for a SOAP fault, :class:`InsiUnavailable` for a server error
    without a SOAP body and :class:`InsiProtocolError` for anything that is not an
    INSi answer.
    """
    if status_code >= 500 and not data.strip():
        raise _unavailable(status_code)
    try:
        envelope = soap.parse_envelope(data)
    except UnsafeXMLError as exc:
        if status_code >= 500:
            raise _unavailable(status_code) from exc
        raise InsiProtocolError(f"INSi answer is not acceptable XML: {exc.message}") from exc
    except SoapFormatError as exc:
        if status_code >= 500:
            raise _unavailable(status_code) from exc
        raise InsiProtocolError(f"INSi answer: {exc.message}") from exc
    body = envelope.body
    if body.tag == _FAULT:
        raise parse_fault(body)
    if status_code >= 400:
        error = InsiUnavailable if status_code >= 500 else InsiProtocolError
        raise error(f"INSi answered HTTP {status_code}", code=f"http_{status_code}")
    resultat = body if body.tag == f"{{{_RES}}}RESULTAT" else None
    if resultat is None:
        raise InsiProtocolError("INSi answer without a RESULTAT element")
    parts = _named(resultat)
    cr = parts.get("CR")
    if cr is None:
        raise InsiProtocolError("INSi answer without CR")
    cr_named = _named(cr)
    code = _text(cr_named, "CodeCR", required=True, where="CR/")
    label = _text(cr_named, "LibelleCR")
    if code not in (CR_OK, CR_NOT_FOUND, CR_MULTIPLE):
        raise InsiProtocolError(f"INSi answer with an unknown CR code {code[:8]!r}")
    individu = parts.get("INDIVIDU")
    identity = None
    if code == CR_OK:
        if individu is None:
            raise InsiProtocolError("INSi answer CR 00 without INDIVIDU")
        identity = _individu(individu)
    return InsiResult(
        code=code,
        label=label,
        identity=identity,
        operation=operation,
        message_id=envelope.relates_to,
    )
