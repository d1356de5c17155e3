"""Building INSi SOAP 1.2 request envelopes.

An envelope holds, in its header, ``wsse:Security`` (CPS mode only: the signed PS
assertion), ``ctxlps:ContexteLPS`` (the software), ``wsa:MessageID``, ``wsa:Action`` and
``ctxbam:ContexteBAM`` (the coverage context, empty for a traits search), and in its body
``RECSANSVITALE`` (traits search) or ``RECVITALE`` (carte Vitale search), exactly as the
official XSDs describe them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import attrs
from lxml import etree

from segur_ins.insi.namespaces import ACTION_TRAITS, ACTION_VITALE, BAM_VERSION, LPS_VERSION, NS

__all__ = [
    "Envelope",
    "SoftwareContext",
    "TraitsQuery",
    "VitaleQuery",
    "build_envelope",
    "traits_body",
    "vitale_body",
]


def _q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


def _sub(parent: etree._Element, prefix: str, local: str, text: str | None = None, **attrib):
    element = etree.SubElement(parent, _q(prefix, local), attrib)
    if text is not None:
        element.text = text
    return element


def _timestamp(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@attrs.frozen
class SoftwareContext:
    """Who calls INSi: the software's CNDA authorisation number (``idam``), its name and
    version, this installation's ``instance`` id and the flow ``emitter``."""

    idam: str
    name: str = "segur"
    version: str = "0.1.0"
    instance: str = attrs.Factory(lambda: str(uuid.uuid4()))
    emitter: str | None = None


@attrs.frozen
class TraitsQuery:
    """A traits search (``rechercherInsAvecTraitsIdentite``), values already RNIV-normalised.

    ``first_names`` are sent as one ``Prenom`` element each, in order (the service
    accepts one or several); ``birth_date`` is ``YYYY-MM-DD`` (``00`` for unknown parts).
    """

    birth_name: str
    first_names: tuple[str, ...] = attrs.field(converter=tuple)
    sex: str | None
    birth_date: str
    birth_place: str | None = None


@attrs.frozen
class VitaleQuery:
    """A carte Vitale search (``rechercherInsAvecCarteVitale``).

    ``nir`` is the beneficiary's own 15-character NIR when the card holds it,
    ``insured_nir`` the insured person's; ``birth_rank`` the rang de naissance.
    """

    birth_name: str | None = None
    birth_date: str | None = None
    nir: str | None = None
    insured_nir: str | None = None
    birth_rank: int | None = None


@attrs.frozen
class Envelope:
    """A built request: the operation, its SOAP action, its message id and its bytes."""

    operation: str
    action: str
    message_id: str
    content: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")


def traits_body(query: TraitsQuery) -> etree._Element:
    """The ``RECSANSVITALE`` element of a traits search."""
    body = etree.Element(_q("recsans", "RECSANSVITALE"), nsmap={None: NS["recsans"]})
    _sub(body, "recsans", "NomNaissance", query.birth_name)
    for first_name in query.first_names:
        _sub(body, "recsans", "Prenom", first_name)
    if query.sex:
        _sub(body, "recsans", "Sexe", query.sex)
    _sub(body, "recsans", "DateNaissance", query.birth_date)
    if query.birth_place:
        _sub(body, "recsans", "LieuNaissance", query.birth_place)
    return body


def _matricule(parent: etree._Element, local: str, nir: str) -> None:
    matricule = _sub(parent, "recvit", local)
    _sub(matricule, "recvit", "NumIdentifiant", nir[:13])
    if len(nir) == 15:
        _sub(matricule, "recvit", "Cle", nir[13:])


def vitale_body(query: VitaleQuery) -> etree._Element:
    """The ``RECVITALE`` element of a carte Vitale search."""
    body = etree.Element(_q("recvit", "RECVITALE"), nsmap={None: NS["recvit"]})
    if query.nir:
        _matricule(body, "MatriculeIndividu", query.nir)
    if query.insured_nir:
        _matricule(body, "MatriculeOD", query.insured_nir)
    if query.birth_name:
        _sub(body, "recvit", "NomNaissance", query.birth_name)
    if query.birth_date:
        _sub(body, "recvit", "DateNaissance", query.birth_date)
    if query.birth_rank is not None:
        _sub(body, "recvit", "RangNaissance", str(query.birth_rank))
    return body


def _contexte_lps(software: SoftwareContext, now: dt.datetime) -> etree._Element:
    lps = etree.Element(
        _q("ctxlps", "ContexteLPS"),
        {"Nature": "CTXLPS", "Version": LPS_VERSION},
        nsmap={"ctxlps": NS["ctxlps"]},
    )
    _sub(lps, "ctxlps", "Id", str(uuid.uuid4()))
    _sub(lps, "ctxlps", "Temps", _timestamp(now))
    if software.emitter:
        _sub(lps, "ctxlps", "Emetteur", software.emitter)
    logiciel = _sub(lps, "ctxlps", "LPS")
    _sub(logiciel, "ctxlps", "IDAM", software.idam, R="4")
    _sub(logiciel, "ctxlps", "Version", software.version)
    _sub(logiciel, "ctxlps", "Instance", software.instance)
    _sub(logiciel, "ctxlps", "Nom", f"urn:lps:{software.name}:{software.version}")
    return lps


def _nir_parts(parent: etree._Element, local: str, nir: str) -> etree._Element:
    element = _sub(parent, "ctxbam", local)
    _sub(element, "ctxbam", "Num", nir[:13])
    if len(nir) == 15:
        _sub(element, "ctxbam", "Cle", nir[13:])
    return element


def _contexte_bam(
    software: SoftwareContext, now: dt.datetime, vitale: VitaleQuery | None
) -> etree._Element:
    bam = etree.Element(
        _q("ctxbam", "ContexteBAM"),
        {"Version": BAM_VERSION, "Nature": "CTXBAM"},
        nsmap={"ctxbam": NS["ctxbam"]},
    )
    _sub(bam, "ctxbam", "Id", str(uuid.uuid4()))
    _sub(bam, "ctxbam", "Temps", _timestamp(now))
    if software.emitter:
        _sub(bam, "ctxbam", "Emetteur", software.emitter)
    couverture = _sub(bam, "ctxbam", "COUVERTURE")
    if vitale is not None:
        if vitale.insured_nir:
            assure = _sub(couverture, "ctxbam", "ASSURE")
            _nir_parts(assure, "Id", vitale.insured_nir)
        if vitale.nir or vitale.birth_date or vitale.birth_rank is not None:
            beneficiaire = _sub(couverture, "ctxbam", "BENEFICIAIRE")
            if vitale.nir:
                _nir_parts(beneficiaire, "Nir", vitale.nir)
            if vitale.birth_date:
                _sub(beneficiaire, "ctxbam", "DateNai", vitale.birth_date)
            if vitale.birth_rank is not None:
                _sub(beneficiaire, "ctxbam", "Rang", str(vitale.birth_rank))
    return bam


def build_envelope(
    query: TraitsQuery | VitaleQuery,
    software: SoftwareContext,
    *,
    assertions: Sequence[etree._Element] = (),
    message_id: str | None = None,
    now: dt.datetime | None = None,
) -> Envelope:
    """Build the SOAP 1.2 request for ``query``.

    ``assertions`` are the signed SAML assertions for ``wsse:Security`` (CPS mode); in
    mutual-TLS mode there are none and the header is left out, the certificate being the
    credential.
    """
    now = now or dt.datetime.now(dt.UTC)
    message_id = message_id or f"uuid:{uuid.uuid4()}"
    if isinstance(query, TraitsQuery):
        operation, action = "rechercherInsAvecTraitsIdentite", ACTION_TRAITS
        body, vitale = traits_body(query), None
    else:
        operation, action, body = "rechercherInsAvecCarteVitale", ACTION_VITALE, vitale_body(query)
        vitale = query
    envelope = etree.Element(
        _q("soap", "Envelope"), nsmap={"soap": NS["soap"], "wsa": NS["wsa"]}
    )
    header = _sub(envelope, "soap", "Header")
    if assertions:
        security = etree.SubElement(
            header, _q("wsse", "Security"), nsmap={"wsse": NS["wsse"]}
        )
        for assertion in assertions:
            security.append(assertion)
    header.append(_contexte_lps(software, now))
    _sub(header, "wsa", "MessageID", message_id)
    _sub(header, "wsa", "Action", action)
    header.append(_contexte_bam(software, now, vitale))
    _sub(envelope, "soap", "Body").append(body)
    content = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    return Envelope(operation=operation, action=action, message_id=message_id, content=content)
