"""Building INSi SOAP 1.2 request envelopes.

An envelope holds, in its header, ``wsse:Security`` (CPS mode only: the signed PS
assertion), ``ctxlps:ContexteLPS`` (the software), ``wsa:MessageID``, ``wsa:Action`` and
``ctxbam:ContexteBAM`` (the coverage context, empty for a traits search), and in its body
``RECSANSVITALE`` (traits search) or ``RECVITALE`` (carte Vitale search), exactly as the
official XSDs describe them.

The envelope is written as text (values escaped, wrapped by
:func:`segur_core.wire.soap.envelope_text`) rather than built as a tree: it is on the
hot path of batch qualification, and its shape is fixed. The tests validate every
part against the official schemas.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import uuid
from collections.abc import Sequence
from xml.sax.saxutils import escape

import attrs
from lxml import etree

from segur_core.errors import InputError
from segur_core.model import hidden
from segur_core.wire import soap
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


_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(value: str) -> str:
    """``value`` escaped as XML character data; refuses characters XML cannot hold."""
    if _INVALID_XML.search(value):
        raise InputError("a value sent to INSi holds a character XML cannot carry")
    return escape(value, {'"': "&quot;", "\r": "&#13;"})


def _el(prefix: str, local: str, value: str | None) -> str:
    if value is None:
        return ""
    return f"<{prefix}:{local}>{_x(value)}</{prefix}:{local}>"


def _timestamp(now: dt.datetime) -> str:
    utc = now.astimezone(dt.UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


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

    birth_name: str = attrs.field(repr=hidden)
    first_names: tuple[str, ...] = attrs.field(converter=tuple, repr=hidden)
    sex: str | None
    birth_date: str = attrs.field(repr=hidden)
    birth_place: str | None = attrs.field(default=None, repr=hidden)


@attrs.frozen
class VitaleQuery:
    """A carte Vitale search (``rechercherInsAvecCarteVitale``).

    ``nir`` is the beneficiary's own 15-character NIR when the card holds it,
    ``insured_nir`` the insured person's; ``birth_rank`` the rang de naissance.
    """

    birth_name: str | None = attrs.field(default=None, repr=hidden)
    birth_date: str | None = attrs.field(default=None, repr=hidden)
    nir: str | None = attrs.field(default=None, repr=hidden)
    insured_nir: str | None = attrs.field(default=None, repr=hidden)
    birth_rank: int | None = None


@attrs.frozen
class Envelope:
    """A built request: the operation, its SOAP action, its message id and its bytes."""

    operation: str
    action: str
    message_id: str
    content: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")


def traits_body(query: TraitsQuery) -> str:
    """The ``RECSANSVITALE`` element of a traits search (serialised)."""
    parts = [_el("recsans", "NomNaissance", query.birth_name)]
    parts += [_el("recsans", "Prenom", name) for name in query.first_names]
    parts.append(_el("recsans", "Sexe", query.sex or None))
    parts.append(_el("recsans", "DateNaissance", query.birth_date))
    parts.append(_el("recsans", "LieuNaissance", query.birth_place or None))
    namespace = NS["recsans"]
    return (
        f'<recsans:RECSANSVITALE xmlns:recsans="{namespace}">{"".join(parts)}'
        "</recsans:RECSANSVITALE>"
    )


def _matricule(local: str, nir: str) -> str:
    key = _el("recvit", "Cle", nir[13:]) if len(nir) == 15 else ""
    number = _el("recvit", "NumIdentifiant", nir[:13])
    return f"<recvit:{local}>{number}{key}</recvit:{local}>"


def vitale_body(query: VitaleQuery) -> str:
    """The ``RECVITALE`` element of a carte Vitale search (serialised)."""
    parts = [
        _matricule("MatriculeIndividu", query.nir) if query.nir else "",
        _matricule("MatriculeOD", query.insured_nir) if query.insured_nir else "",
        _el("recvit", "NomNaissance", query.birth_name or None),
        _el("recvit", "DateNaissance", query.birth_date or None),
        _el("recvit", "RangNaissance", None if query.birth_rank is None else str(query.birth_rank)),
    ]
    return f'<recvit:RECVITALE xmlns:recvit="{NS["recvit"]}">{"".join(parts)}</recvit:RECVITALE>'


@functools.lru_cache(maxsize=16)
def _lps_software(software: SoftwareContext) -> str:
    """The constant part of ContexteLPS for one software (after ``Temps``)."""
    return (
        _el("ctxlps", "Emetteur", software.emitter or None)
        + "<ctxlps:LPS>"
        + f'<ctxlps:IDAM R="4">{_x(software.idam)}</ctxlps:IDAM>'
        + _el("ctxlps", "Version", software.version)
        + _el("ctxlps", "Instance", software.instance)
        + _el("ctxlps", "Nom", f"urn:lps:{software.name}:{software.version}")
        + "</ctxlps:LPS>"
    )


def _uuids(count: int) -> list[uuid.UUID]:
    """``count`` random (version 4) UUIDs from one read of the system's random source
    (``uuid.uuid4()`` reads it once per id)."""
    data = os.urandom(16 * count)
    return [uuid.UUID(bytes=data[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


def _contexte_lps(software: SoftwareContext, temps: str, ident: uuid.UUID) -> str:
    return (
        f'<ctxlps:ContexteLPS xmlns:ctxlps="{NS["ctxlps"]}" Nature="CTXLPS" '
        f'Version="{LPS_VERSION}"><ctxlps:Id>{ident}</ctxlps:Id>'
        f"<ctxlps:Temps>{temps}</ctxlps:Temps>{_lps_software(software)}</ctxlps:ContexteLPS>"
    )


def _nir_parts(local: str, nir: str) -> str:
    key = _el("ctxbam", "Cle", nir[13:]) if len(nir) == 15 else ""
    return f"<ctxbam:{local}>{_el('ctxbam', 'Num', nir[:13])}{key}</ctxbam:{local}>"


def _couverture(vitale: VitaleQuery | None) -> str:
    if vitale is None:
        return "<ctxbam:COUVERTURE/>"
    parts = []
    if vitale.insured_nir:
        parts.append(f"<ctxbam:ASSURE>{_nir_parts('Id', vitale.insured_nir)}</ctxbam:ASSURE>")
    if vitale.nir or vitale.birth_date or vitale.birth_rank is not None:
        rank = None if vitale.birth_rank is None else str(vitale.birth_rank)
        parts.append(
            "<ctxbam:BENEFICIAIRE>"
            + (_nir_parts("Nir", vitale.nir) if vitale.nir else "")
            + _el("ctxbam", "DateNai", vitale.birth_date or None)
            + _el("ctxbam", "Rang", rank)
            + "</ctxbam:BENEFICIAIRE>"
        )
    return f"<ctxbam:COUVERTURE>{''.join(parts)}</ctxbam:COUVERTURE>"


def _contexte_bam(
    software: SoftwareContext, temps: str, vitale: VitaleQuery | None, ident: uuid.UUID
) -> str:
    return (
        f'<ctxbam:ContexteBAM xmlns:ctxbam="{NS["ctxbam"]}" Version="{BAM_VERSION}" '
        f'Nature="CTXBAM"><ctxbam:Id>{ident}</ctxbam:Id>'
        f"<ctxbam:Temps>{temps}</ctxbam:Temps>"
        + _el("ctxbam", "Emetteur", software.emitter or None)
        + _couverture(vitale)
        + "</ctxbam:ContexteBAM>"
    )


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
    lps_id, bam_id, random_id = _uuids(3)
    message_id = message_id or f"uuid:{random_id}"
    if isinstance(query, TraitsQuery):
        operation, action = "rechercherInsAvecTraitsIdentite", ACTION_TRAITS
        body, vitale = traits_body(query), None
    else:
        operation, action, body = "rechercherInsAvecCarteVitale", ACTION_VITALE, vitale_body(query)
        vitale = query
    temps = _timestamp(now)
    security = ""
    if assertions:  # INSi's wsse:Security carries no mustUnderstand
        signed = "".join(etree.tostring(a, encoding="unicode") for a in assertions)
        security = f'<wsse:Security xmlns:wsse="{soap.WSSE}">{signed}</wsse:Security>'
    header = (
        f"{security}{_contexte_lps(software, temps, lps_id)}"
        f"{_el('wsa', 'MessageID', message_id)}{_el('wsa', 'Action', action)}"
        f"{_contexte_bam(software, temps, vitale, bam_id)}"
    )
    content = soap.envelope_text(header, body)
    return Envelope(operation=operation, action=action, message_id=message_id, content=content)
