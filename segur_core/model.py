"""The value types every segur plugin exchanges.

Frozen ``attrs`` classes: plugins pass these, never dicts. They hold data only; the
rules about them (NIR keys, RNIV lexical rules, identity status transitions) live in
the plugin that owns the capability (``segur-ins`` for identities). Convert to and
from JSON/TOML with :data:`segur_core.convert.converter`.
"""

from __future__ import annotations

import datetime as dt
import enum
import re

import attrs

__all__ = [
    "INS",
    "Address",
    "Answer",
    "BirthDate",
    "CardKind",
    "CardReading",
    "CheckIssue",
    "Consent",
    "Delivery",
    "DeliveryState",
    "Dispensation",
    "DocumentCheck",
    "DocumentStatus",
    "HealthDocument",
    "Identity",
    "IdentityAttribute",
    "IdentityStatus",
    "IdentityTraits",
    "MessagePart",
    "Option",
    "Origin",
    "Patient",
    "Practitioner",
    "Prescription",
    "PrescriptionItem",
    "Question",
    "ReadingSource",
    "ReceivedMessage",
    "Sex",
    "Structure",
    "hidden",
    "mask_matricule",
    "utcnow",
]


def utcnow() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return dt.datetime.now(dt.UTC)


def _tuple(value: object) -> tuple:
    return tuple(value) if value is not None else ()  # type: ignore[arg-type]


def hidden(value: object) -> str:
    """The ``repr`` of a personal field (a name, a NIR, a birth date, a payload): whether
    it is there, never what it is. Use as ``attrs.field(repr=hidden)``."""
    if value is None:
        return "None"
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    return "<hidden>"


# -- identity ------------------------------------------------------------------------------


class Sex(enum.StrEnum):
    """Administrative sex as carried by the INS traits."""

    MALE = "M"
    FEMALE = "F"
    UNKNOWN = "I"


_BIRTH_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@attrs.frozen(order=True)
class BirthDate:
    """A birth date that may be partial: ``month``/``day`` 0 mean unknown.

    INS identities of people born abroad may carry incomplete dates; the textual form
    is ``YYYY-MM-DD`` with ``00`` for the unknown parts.
    """

    year: int = attrs.field(validator=attrs.validators.in_(range(1800, 2200)))
    month: int = attrs.field(default=0, validator=attrs.validators.in_(range(13)))
    day: int = attrs.field(default=0, validator=attrs.validators.in_(range(32)))

    def __attrs_post_init__(self) -> None:
        if self.month == 0 and self.day != 0:
            raise ValueError("a birth date with an unknown month cannot have a day")
        if self.month and self.day:
            dt.date(self.year, self.month, self.day)  # raises on 2023-02-30

    @property
    def is_partial(self) -> bool:
        return self.month == 0 or self.day == 0

    @classmethod
    def parse(cls, text: str) -> BirthDate:
        """Parse ``YYYY-MM-DD`` (``00`` allowed for unknown month/day)."""
        match = _BIRTH_DATE.match(text.strip())
        if not match:
            raise ValueError(f"birth date {text!r} is not YYYY-MM-DD")
        year, month, day = (int(part) for part in match.groups())
        return cls(year, month, day)

    @classmethod
    def from_date(cls, value: dt.date) -> BirthDate:
        return cls(value.year, value.month, value.day)

    def to_date(self) -> dt.date | None:
        """The full date, or ``None`` when it is partial."""
        return None if self.is_partial else dt.date(self.year, self.month, self.day)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


@attrs.frozen
class IdentityTraits:
    """The identity traits of a person.

    The five strict INS traits are ``birth_name``, ``first_names`` (all birth first
    names, in order), ``sex``, ``birth_date`` and ``birth_place`` (INSEE code of the
    commune, or ``99xxx`` for a country). ``used_name`` and ``used_first_name`` are the
    "traits complémentaires". Values are stored as given; ``segur-ins`` normalises them
    to the RNIV lexical rules.
    """

    birth_name: str = attrs.field(repr=hidden)
    first_names: tuple[str, ...] = attrs.field(converter=_tuple, repr=hidden)
    sex: Sex = attrs.field(converter=Sex)
    birth_date: BirthDate = attrs.field(repr=hidden)
    birth_place: str | None = attrs.field(default=None, repr=hidden)
    used_name: str | None = attrs.field(default=None, repr=hidden)
    used_first_name: str | None = attrs.field(default=None, repr=hidden)

    @property
    def first_name(self) -> str:
        """The first of the birth first names (the "premier prénom")."""
        return self.first_names[0] if self.first_names else ""


class IdentityStatus(enum.StrEnum):
    """RNIV identity status, from the least to the most trusted."""

    PROVISIONAL = "PROV"  # identité provisoire
    RECOVERED = "RECUP"  # identité récupérée (INSi, no high-trust document check)
    VALIDATED = "VALI"  # identité validée (high-trust document checked, no INSi)
    QUALIFIED = "QUAL"  # identité qualifiée (INSi + high-trust document)


class IdentityAttribute(enum.StrEnum):
    """RNIV attributes that qualify an identity whatever its status."""

    DOUBTFUL = "douteuse"
    FICTITIOUS = "fictive"
    HOMONYM = "homonyme"


@attrs.frozen
class INS:
    """The Identifiant National de Santé: a matricule (NIR or NIA, 15 characters with
    its key) and the OID of the authority that assigned it."""

    matricule: str
    oid: str

    def __repr__(self) -> str:  # never print a patient identifier by accident
        return f"INS(oid={self.oid!r}, matricule=<{len(self.matricule)} chars>)"

    @property
    def masked(self) -> str:
        """The matricule for display on the pharmacist's screen (:func:`mask_matricule`)."""
        return mask_matricule(self.matricule)


def mask_matricule(matricule: str) -> str:
    """A NIR/NIA matricule for display: sex, year and month of birth and key only; any
    other length shows nothing."""
    if len(matricule) != 15:
        return "***"
    return f"{matricule[0]} {matricule[1:3]} {matricule[3:5]} ** *** *** {matricule[13:]}"


@attrs.frozen
class Identity:
    """A person's identity as the pharmacy holds it: traits, status, INS and RNIV
    attributes. ``ins`` is only shareable when ``status`` is ``QUAL`` (ask segur-ins)."""

    traits: IdentityTraits
    status: IdentityStatus = attrs.field(
        default=IdentityStatus.PROVISIONAL, converter=IdentityStatus
    )
    ins: INS | None = None
    attributes: frozenset[IdentityAttribute] = attrs.field(
        factory=frozenset, converter=lambda v: frozenset(IdentityAttribute(x) for x in v)
    )
    ins_history: tuple[INS, ...] = attrs.field(default=(), converter=_tuple)
    updated_at: dt.datetime | None = None


@attrs.frozen
class Patient:
    """A patient as the host knows them. ``id`` is the host's own local identifier."""

    id: str
    identity: Identity
    email: str | None = attrs.field(default=None, repr=hidden)
    phone: str | None = attrs.field(default=None, repr=hidden)
    mssante_address: str | None = attrs.field(default=None, repr=hidden)


# -- professionals and structures ----------------------------------------------------------


@attrs.frozen
class Address:
    lines: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    postal_code: str = ""
    city: str = ""
    country: str = "FR"


@attrs.frozen
class Practitioner:
    """A health professional. ``profession`` is the TRE_G15 code (``21`` pharmacien),
    ``specialty`` the role within it (e.g. ``G15_21/A`` titulaire, ``G15_21/B`` adjoint
    — see the reference), ``rpps`` the 11-digit RPPS number."""

    rpps: str
    family_name: str = attrs.field(repr=hidden)
    given_name: str = attrs.field(repr=hidden)
    profession: str = "21"
    specialty: str | None = None
    title: str | None = None
    mssante_address: str | None = attrs.field(default=None, repr=hidden)

    @property
    def idnps(self) -> str:
        """The national identifier of the professional: ``8`` followed by the RPPS."""
        return f"8{self.rpps}"


@attrs.frozen
class Structure:
    """The health structure (the pharmacy): FINESS number, name and address.
    ``activity_sector`` is the TRE_R02 code (``SA33`` officine)."""

    finess: str
    name: str
    address: Address = attrs.Factory(Address)
    phone: str | None = attrs.field(default=None, repr=hidden)
    mssante_address: str | None = attrs.field(default=None, repr=hidden)
    activity_sector: str = "SA33"

    @property
    def idnst(self) -> str:
        """The national identifier of the structure: ``1`` followed by the FINESS."""
        return f"1{self.finess}"


# -- card readings -------------------------------------------------------------------------


class CardKind(enum.StrEnum):
    VITALE_1 = "vitale-1"
    VITALE_2 = "vitale-2"
    CPS_3 = "cps-3"
    CPS_4 = "cps-4"
    UNKNOWN = "unknown"


class ReadingSource(enum.StrEnum):
    """Where an identity reading comes from; decides the trust it carries."""

    VITALE_CARD = "vitale-card"
    APCV = "apcv"  # appli carte Vitale: a high-trust identity means ("AV")
    MANUAL = "manual"


@attrs.frozen
class CardReading:
    """One beneficiary's identity as read from a carte Vitale, the appli carte Vitale or
    typed by the pharmacist. ``nir`` is the beneficiary's own NIR when the card has it,
    ``insured_nir`` the NIR of the insured person (ouvrant droit)."""

    source: ReadingSource = attrs.field(converter=ReadingSource)
    traits: IdentityTraits
    nir: str | None = attrs.field(default=None, repr=hidden)
    insured_nir: str | None = attrs.field(default=None, repr=hidden)
    card_kind: CardKind = attrs.field(default=CardKind.UNKNOWN, converter=CardKind)
    beneficiary_rank: int = 1
    reader: str | None = None
    card_serial: str | None = None
    read_at: dt.datetime = attrs.Factory(utcnow)

    @property
    def high_trust(self) -> bool:
        """Whether this reading validates the identity (appli carte Vitale only)."""
        return self.source is ReadingSource.APCV


# -- prescriptions and dispensations -------------------------------------------------------


@attrs.frozen
class PrescriptionItem:
    label: str
    code: str | None = None  # CIS, CIP13 or UCD when known
    code_system: str | None = None
    quantity: str | None = None
    dosage: str | None = None


@attrs.frozen
class Prescription:
    """An ordonnance numérique as fetched from the e-prescription service."""

    id: str
    prescriber: Practitioner
    issued_on: dt.date
    items: tuple[PrescriptionItem, ...] = attrs.field(default=(), converter=_tuple)
    patient_traits: IdentityTraits | None = None
    status: str = "active"


@attrs.frozen
class Dispensation:
    """One product dispensed to a patient (for the DP history and the e-prescription report)."""

    patient_id: str
    dispensed_at: dt.datetime
    product_code: str  # CIP13
    label: str
    quantity: int = 1
    prescription_id: str | None = None
    pharmacy_finess: str | None = None


# -- documents -----------------------------------------------------------------------------


class DocumentStatus(enum.StrEnum):
    DRAFT = "draft"
    VALIDATED = "validated"
    REPLACED = "replaced"
    RECEIVED = "received"


@attrs.frozen
class CheckIssue:
    """One problem the checks found in a document: what, where, which rule, how serious."""

    message: str
    severity: str = "error"
    location: str = ""
    rule: str = ""
    source: str = ""


@attrs.frozen
class DocumentCheck:
    """The verdict of the CDA test kit on a document (structure, XSD, the volet's
    schematrons), kept with a received document: one that fails is stored all the same,
    with this report, and the pharmacist decides. ``checks`` names what ran, ``skipped``
    says what could not run and why."""

    valid: bool
    checks: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    skipped: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    issues: tuple[CheckIssue, ...] = attrs.field(
        default=(), converter=_tuple, repr=lambda v: f"<{len(v)} issues>"
    )

    @property
    def errors(self) -> tuple[CheckIssue, ...]:
        return tuple(issue for issue in self.issues if issue.severity == "error")


@attrs.frozen
class HealthDocument:
    """A health document: its identifiers, its kind and its bytes (a CDA R2 XML).

    ``id`` is the document's unique id (``root`` or ``root^extension`` of the CDA
    ``id``), ``set_id``/``version`` identify the series of versions, ``replaces`` is
    the id of the version it replaces. ``type_code`` is the LOINC code.
    """

    id: str
    patient_id: str
    type_code: str
    title: str
    content: bytes = attrs.field(repr=hidden)
    media_type: str = "text/xml"
    set_id: str | None = None
    version: int = 1
    replaces: str | None = None
    status: DocumentStatus = attrs.field(default=DocumentStatus.DRAFT, converter=DocumentStatus)
    created_at: dt.datetime = attrs.Factory(utcnow)
    author_rpps: str | None = None
    format_code: str | None = None
    confidentiality: str = "N"
    #: a received document: the test kit's verdict (``None`` when it was not checked)
    check: DocumentCheck | None = None


@attrs.frozen
class Origin:
    """Where a received document came from (``channel`` ``mssante``, ``dmp``...)."""

    channel: str
    sender: str | None = None
    message_id: str | None = None
    received_at: dt.datetime = attrs.Factory(utcnow)


@attrs.frozen
class MessagePart:
    """A file attached to a received message (a photo, a PDF...), decoded."""

    name: str = attrs.field(repr=hidden)
    media_type: str
    content: bytes = attrs.field(repr=hidden)


@attrs.frozen
class ReceivedMessage:
    """A message received with no structured document to integrate (a patient's photo
    of a prescription sent to the pharmacy's organisational mailbox), kept as received
    for the pharmacist.

    ``id`` is unique per message (the same message received again has the same id);
    ``content`` is the whole message as received (RFC 5322), ``parts`` its attached
    files; ``patient_id`` the host's patient when the sender identifies one.
    """

    id: str
    channel: str
    content: bytes = attrs.field(repr=hidden)
    sender: str | None = attrs.field(default=None, repr=hidden)
    subject: str = attrs.field(default="", repr=hidden)
    text: str = attrs.field(default="", repr=hidden)
    parts: tuple[MessagePart, ...] = attrs.field(
        default=(), converter=_tuple, repr=lambda v: f"<{len(v)} parts>"
    )
    message_id: str | None = None
    patient_id: str | None = None
    received_at: dt.datetime = attrs.Factory(utcnow)


# -- deliveries (outbox) -------------------------------------------------------------------


class DeliveryState(enum.StrEnum):
    """States of an outbox item. They only move forward: PENDING → IN_FLIGHT →
    (PENDING again for a retry) → DELIVERED or DEAD."""

    PENDING = "pending"
    IN_FLIGHT = "in-flight"
    DELIVERED = "delivered"
    DEAD = "dead"

    @property
    def settled(self) -> bool:
        return self in (DeliveryState.DELIVERED, DeliveryState.DEAD)


@attrs.frozen
class Delivery:
    """An item of the outbox: one message for one national service, keyed for idempotence."""

    id: int
    kind: str
    key: str
    state: DeliveryState = attrs.field(converter=DeliveryState)
    attempts: int = 0
    last_error: str | None = None
    created_at: dt.datetime = attrs.Factory(utcnow)
    settled_at: dt.datetime | None = None
    patient_id: str | None = None
    result: str | None = None


# -- consent and decisions -----------------------------------------------------------------


@attrs.frozen
class Consent:
    """A patient's recorded consent or opposition for a purpose (``dmp-access``...)."""

    patient_id: str
    purpose: str
    granted: bool
    recorded_at: dt.datetime = attrs.Factory(utcnow)
    recorded_by: str | None = None
    note: str | None = None


@attrs.frozen
class Option:
    key: str
    label: str


@attrs.frozen
class Question:
    """A choice the pharmacist must make (several identities, a trait mismatch...).

    ``kind`` is a stable machine name (``ins.choose-identity``) hosts can route on.
    """

    kind: str
    prompt: str
    options: tuple[Option, ...] = attrs.field(converter=_tuple)
    default: str | None = None
    patient_id: str | None = None


@attrs.frozen
class Answer:
    key: str
    decided_by: str | None = None
