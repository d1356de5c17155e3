"""The header of a CDA R2 document, read once for every plugin that needs it.

Reading a received document (segur-documents), deriving its XDS metadata (segur-dmp),
and later sending or exporting it all start from the same ``ClinicalDocument`` header:
ids, type, confidentiality, the patient and their INS, authors, custodian, service
event, the document it replaces. :func:`read_header` parses the bytes with the hardened
parser and returns a frozen :class:`CdaHeader`; :func:`header_of` reads an element
already parsed. Anything that is not a CDA R2 ``ClinicalDocument`` is refused with
:class:`~segur_core.errors.DocumentError`; a missing part is ``None`` (or empty), and
each caller decides what it requires.

Values are read as the CDA schema types them: attribute values (ids, codes, times) are
stripped tokens, ``None`` when empty; texts (names, titles) have their white space
collapsed. Reprs never show the patient's names or identifiers.
"""

from __future__ import annotations

import functools

import attrs
from lxml import etree

from segur_core.errors import DocumentError
from segur_core.model import INS, hidden
from segur_core.safexml import parse_xml

__all__ = [
    "INS_OIDS",
    "MAX_CDA_BYTES",
    "CdaHeader",
    "Coded",
    "InstanceId",
    "Organization",
    "Participant",
    "RecordTarget",
    "RelatedDocument",
    "ServiceEvent",
    "header_of",
    "read_header",
]

HL7 = "urn:hl7-org:v3"
_NS = {"c": HL7}
#: The largest CDA document read (an N1 document carries its PDF in base64).
MAX_CDA_BYTES = 64 * 1024 * 1024
#: Roots of an INS (NIR, NIA, and their test counterparts).
INS_OIDS = frozenset(
    {"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"}
)


def _tuple(value: object) -> tuple:
    return tuple(value)  # type: ignore[arg-type]


@attrs.frozen
class InstanceId:
    """An HL7 ``II``: ``root`` (an OID or UUID) and an optional ``extension``."""

    root: str | None
    extension: str | None = None

    @property
    def value(self) -> str | None:
        """``root^extension`` (or ``root``) as XDS and segur write ids; ``None`` without root."""
        if not self.root:
            return None
        return f"{self.root}^{self.extension}" if self.extension else self.root


@attrs.frozen
class Coded:
    """An HL7 ``CE``/``CS``: a code, its code system and display name."""

    code: str
    system: str | None = None
    display: str | None = None


def _extension(ids: tuple[InstanceId, ...], root: str) -> str | None:
    for ident in ids:
        if ident.root == root and ident.extension:
            return ident.extension
    return None


@attrs.frozen
class Organization:
    """A represented organisation: its ids, name and ``standardIndustryClassCode``."""

    ids: tuple[InstanceId, ...] = attrs.field(converter=_tuple)
    name: str | None = None
    industry: Coded | None = None

    def extension(self, root: str) -> str | None:
        """The extension of the first id under ``root`` (e.g. the Struct_IdNat)."""
        return _extension(self.ids, root)


@attrs.frozen
class Participant:
    """An author, legal authenticator or performer: the assigned entity's ids, the
    person's names, the entity's ``code`` (profession/specialty), its organisation, the
    participation ``time`` and the author's ``functionCode``."""

    ids: tuple[InstanceId, ...] = attrs.field(converter=_tuple)
    family_name: str | None = attrs.field(default=None, repr=hidden)
    given_name: str | None = attrs.field(default=None, repr=hidden)
    code: Coded | None = None
    organization: Organization | None = None
    time: str | None = None
    function: Coded | None = None

    def extension(self, root: str) -> str | None:
        """The extension of the first id under ``root`` (e.g. the PS_IdNat)."""
        return _extension(self.ids, root)


@attrs.frozen
class RecordTarget:
    """The patient as the document names them (``recordTarget/patientRole``).

    ``birth_name`` is the ``family`` qualified ``BR`` (else the first), ``first_names``
    the unqualified ``given`` (all birth first names, else the first given),
    ``first_name`` the ``given`` qualified ``BR`` (else the first), ``used_name`` and
    ``used_first_name`` those qualified ``CL``. ``sex`` and ``birth_time`` are the raw
    codes, ``birth_place`` the INSEE code of ``birthplace``.
    """

    ids: tuple[InstanceId, ...] = attrs.field(converter=_tuple, repr=hidden)
    birth_name: str | None = attrs.field(default=None, repr=hidden)
    first_names: str | None = attrs.field(default=None, repr=hidden)
    first_name: str | None = attrs.field(default=None, repr=hidden)
    used_name: str | None = attrs.field(default=None, repr=hidden)
    used_first_name: str | None = attrs.field(default=None, repr=hidden)
    sex: str | None = None
    birth_time: str | None = attrs.field(default=None, repr=hidden)
    birth_place: str | None = attrs.field(default=None, repr=hidden)
    has_patient: bool = False

    @property
    def ins(self) -> INS | None:
        """The first id under an INS root that has an extension."""
        for ident in self.ids:
            if ident.root in INS_OIDS and ident.extension:
                return INS(ident.extension, ident.root)
        return None

    @property
    def local_ids(self) -> tuple[tuple[str, str], ...]:
        """``(root, extension)`` of every complete id but the INS."""
        found, seen_ins = [], False
        for ident in self.ids:
            if not ident.root or not ident.extension:
                continue
            if ident.root in INS_OIDS and not seen_ins:
                seen_ins = True
                continue
            found.append((ident.root, ident.extension))
        return tuple(found)


@attrs.frozen
class ServiceEvent:
    """A ``documentationOf/serviceEvent``: its code, time interval and performers."""

    code: Coded | None = None
    low: str | None = None
    high: str | None = None
    performers: tuple[Participant, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen
class RelatedDocument:
    """A ``relatedDocument``: ``type_code`` (``RPLC``, ``APND``, ``XFRM``) and the parent's
    id, setId and version."""

    type_code: str | None
    id: InstanceId | None = None
    set_id: InstanceId | None = None
    version_number: str | None = None


@attrs.frozen
class CdaHeader:
    """What the header of a CDA R2 document says about it."""

    id: InstanceId | None
    set_id: InstanceId | None = None
    version_number: str | None = None
    code: Coded | None = None
    title: str | None = None
    effective_time: str | None = None
    confidentiality: Coded | None = None
    language: str | None = None
    templates: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    patient: RecordTarget | None = None
    authors: tuple[Participant, ...] = attrs.field(default=(), converter=_tuple)
    custodian: Organization | None = None
    legal_authenticator: Participant | None = None
    service_events: tuple[ServiceEvent, ...] = attrs.field(default=(), converter=_tuple)
    healthcare_facility: Coded | None = None
    related: tuple[RelatedDocument, ...] = attrs.field(default=(), converter=_tuple)
    body: str | None = None  # "structuredBody", "nonXMLBody" or None
    media_type: str | None = None  # of a nonXMLBody

    @property
    def version(self) -> int | None:
        """``versionNumber`` as an integer, ``None`` when absent or not a number."""
        value = self.version_number
        return int(value) if value and value.isascii() and value.isdigit() else None

    @property
    def replaces(self) -> str | None:
        """The id of the document this one replaces (first ``RPLC`` parent), or ``None``."""
        for related in self.related:
            if related.type_code == "RPLC" and related.id is not None:
                return related.id.value
        return None


# -- reading --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _compiled(path: str) -> etree.XPath:
    """Each path compiled once (4x faster than ``node.xpath``); lxml locks an ``XPath``
    while it evaluates, so threads may share it. Without the EXSLT regular expressions
    and smart strings, which no path here uses: lxml then sets up less for each of the
    some seventy evaluations of a header."""
    return etree.XPath(path, namespaces=_NS, regexp=False, smart_strings=False)


def _all(node: etree._Element, path: str) -> list[etree._Element]:
    return _compiled(path)(node)  # type: ignore[return-value]


def _first(node: etree._Element | None, path: str) -> etree._Element | None:
    if node is None:
        return None
    found = _all(node, path)
    return found[0] if found else None


def _attr(node: etree._Element | None, name: str) -> str | None:
    value = node.get(name) if node is not None else None
    return value.strip() or None if value else None


def _text(node: etree._Element | None, path: str) -> str | None:
    found = _first(node, path)
    if found is None:
        return None
    text = "".join(found.itertext()) if len(found) else found.text or ""  # mostly a leaf
    return " ".join(text.split()) or None


def _ii(node: etree._Element | None) -> InstanceId | None:
    if node is None:
        return None
    return InstanceId(_attr(node, "root"), _attr(node, "extension"))


def _ids(node: etree._Element | None) -> tuple[InstanceId, ...]:
    if node is None:
        return ()
    return tuple(InstanceId(_attr(i, "root"), _attr(i, "extension")) for i in _all(node, "c:id"))


def _coded(node: etree._Element | None) -> Coded | None:
    code = _attr(node, "code")
    if node is None or code is None:
        return None
    return Coded(code, _attr(node, "codeSystem"), _attr(node, "displayName"))


def _organization(node: etree._Element | None) -> Organization | None:
    if node is None:
        return None
    return Organization(
        _ids(node), _text(node, "c:name"), _coded(_first(node, "c:standardIndustryClassCode"))
    )


def _participant(node: etree._Element | None, entity: str) -> Participant | None:
    assigned = _first(node, entity)
    if node is None or assigned is None:
        return None
    person = _first(assigned, "c:assignedPerson")
    return Participant(
        _ids(assigned),
        _text(person, "c:name/c:family"),
        _text(person, "c:name/c:given"),
        _coded(_first(assigned, "c:code")),
        _organization(_first(assigned, "c:representedOrganization")),
        _attr(_first(node, "c:time"), "value"),
        _coded(_first(node, "c:functionCode")),
    )


def _record_target(root: etree._Element) -> RecordTarget | None:
    role = _first(root, "c:recordTarget/c:patientRole")
    if role is None:
        return None
    person = _first(role, "c:patient")
    if person is None:
        return RecordTarget(_ids(role))
    return RecordTarget(
        _ids(role),
        birth_name=_text(person, "c:name/c:family[@qualifier='BR']")
        or _text(person, "c:name/c:family"),
        first_names=_text(person, "c:name/c:given[not(@qualifier)]")
        or _text(person, "c:name/c:given"),
        first_name=_text(person, "c:name/c:given[@qualifier='BR']")
        or _text(person, "c:name/c:given"),
        used_name=_text(person, "c:name/c:family[@qualifier='CL']"),
        used_first_name=_text(person, "c:name/c:given[@qualifier='CL']"),
        sex=_attr(_first(person, "c:administrativeGenderCode"), "code"),
        birth_time=_attr(_first(person, "c:birthTime"), "value"),
        birth_place=_text(person, "c:birthplace/c:place/c:addr/c:county"),
        has_patient=True,
    )


def _service_event(node: etree._Element) -> ServiceEvent:
    return ServiceEvent(
        _coded(_first(node, "c:code")),
        _attr(_first(node, "c:effectiveTime/c:low"), "value"),
        _attr(_first(node, "c:effectiveTime/c:high"), "value"),
        tuple(
            p
            for p in (_participant(n, "c:assignedEntity") for n in _all(node, "c:performer"))
            if p is not None
        ),
    )


def _related(node: etree._Element) -> RelatedDocument:
    parent = _first(node, "c:parentDocument")
    return RelatedDocument(
        _attr(node, "typeCode"),
        _ii(_first(parent, "c:id")),
        _ii(_first(parent, "c:setId")),
        _attr(_first(parent, "c:versionNumber"), "value"),
    )


def header_of(root: etree._Element) -> CdaHeader:
    """The header of a parsed ``ClinicalDocument`` (refused with ``DocumentError`` when
    the element is anything else)."""
    qname = etree.QName(root)
    if qname.localname != "ClinicalDocument" or qname.namespace != HL7:
        raise DocumentError("not a CDA R2 document (root is not urn:hl7-org:v3 ClinicalDocument)")
    body = None
    if _first(root, "c:component/c:nonXMLBody") is not None:
        body = "nonXMLBody"
    elif _first(root, "c:component/c:structuredBody") is not None:
        body = "structuredBody"
    return CdaHeader(
        id=_ii(_first(root, "c:id")),
        set_id=_ii(_first(root, "c:setId")),
        version_number=_attr(_first(root, "c:versionNumber"), "value"),
        code=_coded(_first(root, "c:code")),
        title=_text(root, "c:title"),
        effective_time=_attr(_first(root, "c:effectiveTime"), "value"),
        confidentiality=_coded(_first(root, "c:confidentialityCode")),
        language=_attr(_first(root, "c:languageCode"), "code"),
        templates=tuple(r for r in (_attr(t, "root") for t in _all(root, "c:templateId")) if r),
        patient=_record_target(root),
        authors=tuple(
            p
            for p in (_participant(a, "c:assignedAuthor") for a in _all(root, "c:author"))
            if p is not None
        ),
        custodian=_organization(
            _first(root, "c:custodian/c:assignedCustodian/c:representedCustodianOrganization")
        ),
        legal_authenticator=_participant(_first(root, "c:legalAuthenticator"), "c:assignedEntity"),
        service_events=tuple(
            _service_event(e) for e in _all(root, "c:documentationOf/c:serviceEvent")
        ),
        healthcare_facility=_coded(
            _first(
                root, "c:componentOf/c:encompassingEncounter/c:location/c:healthCareFacility/c:code"
            )
        ),
        related=tuple(_related(r) for r in _all(root, "c:relatedDocument")),
        body=body,
        media_type=_attr(_first(root, "c:component/c:nonXMLBody/c:text"), "mediaType"),
    )


def read_header(data: bytes, *, max_bytes: int = MAX_CDA_BYTES) -> CdaHeader:
    """Parse ``data`` with the hardened parser and read its CDA R2 header.

    Raises ``UnsafeXMLError`` for bytes that are not safe, well-formed XML and
    ``DocumentError`` for XML that is not a CDA R2 ``ClinicalDocument``.
    """
    return header_of(parse_xml(data, max_bytes=max_bytes))
