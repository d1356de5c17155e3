"""The RNIV identity status machine: PROV, RECUP, VALI, QUAL and the attributes.

A status is two independent criteria:

======  =====================  ==================================
status  retrieved from INSi    checked against a high-trust document
======  =====================  ==================================
PROV    no                     no
RECUP   yes                    no
VALI    no                     yes
QUAL    yes                    yes
======  =====================  ==================================

Events (:class:`InsiRetrieved`, :class:`DocumentChecked`, :class:`TraitsModified`,
:class:`AttributeSet`, :class:`AttributeCleared`, :class:`InsMismatch`) set or clear
these criteria; :func:`apply` is pure and returns the new identity with a
:class:`Transition` the caller records in the journal. The rules:

- an INSi retrieval sets the INSi criterion and the INS; the strict traits become the
  ones INSi returned, so a document check made on other traits no longer holds;
- a high-trust document check (identity card, passport, residence permit, electronic
  ID, La Poste digital identity, appli carte Vitale...) sets the document criterion;
- a change of a strict trait clears both criteria and the INS (back to PROV): the INS
  was retrieved and the document checked for other traits; complementary traits (used
  name, used first name) change without effect on the status;
- the verification at an act that finds the INS no longer matches clears the INSi
  criterion and the INS (QUAL→VALI, RECUP→PROV);
- ``douteuse`` and ``fictive`` force PROV, drop the INS and refuse INSi retrievals and
  document checks while set; ``homonyme`` is compatible with every status; the only
  combination allowed is ``douteuse`` + ``homonyme``;
- only a QUAL identity exposes its INS (:func:`shareable_ins`), and only an INS whose
  key checks: an INSi answer whose INS has a wrong key (the CNDA case "clé erronée") is
  not adopted (:class:`InsKeyError`: the identity stays as it was, the pharmacist is
  told), and a stored one is never shared.

Refused transitions raise :class:`~segur_core.errors.IdentityError`.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import ClassVar

import attrs

from segur_core.errors import IdentityError
from segur_core.model import INS, Identity, IdentityAttribute, IdentityStatus, IdentityTraits
from segur_ins.nir import Nir, NirError
from segur_ins.oids import ins_from
from segur_ins.traits import StrictTrait, compare_traits, normalise_traits

__all__ = [
    "AttributeCleared",
    "AttributeSet",
    "DocumentChecked",
    "HighTrustDocument",
    "IdentityEvent",
    "InsKeyError",
    "InsMismatch",
    "InsiRetrieved",
    "TraitsModified",
    "Transition",
    "apply",
    "check_identity",
    "is_blocked",
    "is_checked",
    "is_retrieved",
    "key_checks",
    "shareable_ins",
    "status_for",
]

S = IdentityStatus
A = IdentityAttribute
_BLOCKING = frozenset({A.DOUBTFUL, A.FICTITIOUS})


class HighTrustDocument(enum.StrEnum):
    """Identity means that validate an identity (FR Core identity-mode-validation codes)."""

    CN = "CN"  # carte nationale d'identité
    PA = "PA"  # passeport
    CS = "CS"  # titre de séjour
    ECN = "eCN"  # carte nationale d'identité électronique
    IN = "IN"  # identité numérique (La Poste)
    AV = "AV"  # application carte Vitale
    # special cases for minors and residents of care homes (see the reference)
    LECV = "LECV"
    AN = "AN"
    LEP = "LEP"
    CC = "CC"
    ANCV = "ANCV"


# -- events --------------------------------------------------------------------------------


@attrs.frozen
class IdentityEvent:
    """Base of the events the machine accepts."""

    kind: ClassVar[str] = "event"


@attrs.frozen
class InsiRetrieved(IdentityEvent):
    """INSi returned exactly one identity (CR 00), compared with the person's traits:
    ``ins`` is INSACTIF, ``traits`` the TIQ, ``history`` the INSHISTO."""

    kind: ClassVar[str] = "insi-retrieved"
    ins: INS
    traits: IdentityTraits
    history: tuple[INS, ...] = attrs.field(default=(), converter=tuple)


@attrs.frozen
class DocumentChecked(IdentityEvent):
    """The pharmacist checked the identity against a high-trust document. ``traits``,
    when given, are the strict traits read on the document and must match."""

    kind: ClassVar[str] = "document-checked"
    document: HighTrustDocument = attrs.field(converter=HighTrustDocument)
    traits: IdentityTraits | None = None


@attrs.frozen
class TraitsModified(IdentityEvent):
    """Someone changed the identity's traits."""

    kind: ClassVar[str] = "traits-modified"
    traits: IdentityTraits


@attrs.frozen
class AttributeSet(IdentityEvent):
    """Set an RNIV attribute; ``reason`` (journaled: no patient data) says why."""

    kind: ClassVar[str] = "attribute-set"
    attribute: IdentityAttribute = attrs.field(converter=IdentityAttribute)
    reason: str = ""


@attrs.frozen
class AttributeCleared(IdentityEvent):
    """Clear an RNIV attribute; the status stays PROV until requalified."""

    kind: ClassVar[str] = "attribute-cleared"
    attribute: IdentityAttribute = attrs.field(converter=IdentityAttribute)
    reason: str = ""


@attrs.frozen
class InsMismatch(IdentityEvent):
    """The verification at an act found that INSi no longer confirms the stored INS
    (another INS, no identity, or different strict traits listed in ``differences``)."""

    kind: ClassVar[str] = "ins-mismatch"
    differences: tuple[StrictTrait, ...] = attrs.field(default=(), converter=tuple)
    reason: str = ""


# -- transitions ---------------------------------------------------------------------------


@attrs.frozen
class Transition:
    """What an event did, for the journal: no identifier, only statuses and names."""

    event: str
    from_status: IdentityStatus
    to_status: IdentityStatus
    reason: str
    attributes_before: frozenset[IdentityAttribute] = frozenset()
    attributes_after: frozenset[IdentityAttribute] = frozenset()
    ins_changed: bool = False
    traits_changed: tuple[StrictTrait, ...] = ()

    @property
    def changed(self) -> bool:
        return (
            self.from_status is not self.to_status
            or self.attributes_before != self.attributes_after
            or self.ins_changed
            or bool(self.traits_changed)
        )

    @property
    def lost_retrieval(self) -> bool:
        """The INSi criterion was lost (RECUP/QUAL to PROV/VALI)."""
        return is_retrieved(self.from_status) and not is_retrieved(self.to_status)

    @property
    def lost_check(self) -> bool:
        """The document criterion was lost (VALI/QUAL to PROV/RECUP)."""
        return is_checked(self.from_status) and not is_checked(self.to_status)

    @property
    def downgraded(self) -> bool:
        return self.lost_retrieval or self.lost_check

    def journal_details(self) -> dict[str, object]:
        """A JSON-ready summary for :meth:`segur_core.journal.Journal.record`."""
        return {
            "event": self.event,
            "from": str(self.from_status),
            "to": str(self.to_status),
            "reason": self.reason,
            "attributes": sorted(str(a) for a in self.attributes_after),
            "ins_changed": self.ins_changed,
            "traits_changed": [str(t) for t in self.traits_changed],
        }


def is_retrieved(status: IdentityStatus) -> bool:
    """Whether the status carries the INSi criterion (RECUP, QUAL)."""
    return status in (S.RECOVERED, S.QUALIFIED)


def is_checked(status: IdentityStatus) -> bool:
    """Whether the status carries the document criterion (VALI, QUAL)."""
    return status in (S.VALIDATED, S.QUALIFIED)


def status_for(retrieved: bool, checked: bool) -> IdentityStatus:
    """The status holding exactly these two criteria."""
    return {
        (False, False): S.PROVISIONAL,
        (True, False): S.RECOVERED,
        (False, True): S.VALIDATED,
        (True, True): S.QUALIFIED,
    }[(bool(retrieved), bool(checked))]


def check_identity(identity: Identity) -> None:
    """Raise :class:`IdentityError` if ``identity`` breaks the machine's invariants."""
    attributes = identity.attributes
    if A.FICTITIOUS in attributes and len(attributes) > 1:
        raise IdentityError("a fictitious identity cannot carry another attribute")
    if attributes & _BLOCKING and identity.status is not S.PROVISIONAL:
        raise IdentityError("a doubtful or fictitious identity must be provisional (PROV)")
    if is_retrieved(identity.status) and identity.ins is None:
        raise IdentityError(f"a {identity.status} identity must carry its INS")
    if not is_retrieved(identity.status) and identity.ins is not None:
        raise IdentityError(
            f"a {identity.status} identity cannot carry an INS: it was not retrieved from INSi"
        )


def is_blocked(identity: Identity) -> bool:
    """Whether the identity is doubtful or fictitious: no INSi search, no INS shared."""
    return bool(identity.attributes & _BLOCKING)


class InsKeyError(IdentityError):
    """INSi returned an INS whose key does not check (CNDA case "clé erronée"): it is not
    adopted, never qualifies an identity and is never shared; the pharmacist is told."""


def key_checks(ins: INS) -> bool:
    """Whether the INS's matricule is well formed and its key checks (97 - N mod 97)."""
    try:
        return Nir.parse(ins.matricule, verify_key=False).key_ok
    except NirError:
        return False


def shareable_ins(identity: Identity) -> INS | None:
    """The INS to share or print, or ``None``: only a QUAL identity exposes it, and only
    an INS whose key checks (one stored before keys were checked stays unshared)."""
    ins = identity.ins
    if identity.status is S.QUALIFIED and ins is not None and not is_blocked(identity):
        return ins if key_checks(ins) else None
    return None


# -- the machine ---------------------------------------------------------------------------


def apply(
    identity: Identity, event: IdentityEvent, *, at: dt.datetime | None = None
) -> tuple[Identity, Transition]:
    """Apply ``event`` to ``identity``: the new identity and the transition to journal.

    Pure: nothing is saved or recorded here. ``at`` (when given) becomes
    ``updated_at``. Raises :class:`IdentityError` for a refused transition.
    """
    check_identity(identity)
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise IdentityError(f"unknown identity event {type(event).__name__}")
    new, reason, traits_changed = handler(identity, event)
    if at is not None:
        new = attrs.evolve(new, updated_at=at)
    transition = Transition(
        event=event.kind,
        from_status=identity.status,
        to_status=new.status,
        reason=reason,
        attributes_before=identity.attributes,
        attributes_after=new.attributes,
        ins_changed=new.ins != identity.ins,
        traits_changed=traits_changed,
    )
    check_identity(new)
    return new, transition


_Result = tuple[Identity, str, tuple[StrictTrait, ...]]


def _why(what: str, reason: str) -> str:
    return f"{what}: {reason}" if reason else what


def _refuse_if_blocked(identity: Identity, action: str) -> None:
    blocking = identity.attributes & _BLOCKING
    if blocking:
        names = " and ".join(sorted(str(a) for a in blocking))
        raise IdentityError(
            f"{action} refused: the identity is {names}",
            hint="clear the attribute once the identity is confirmed",
        )


def _insi_retrieved(identity: Identity, event: InsiRetrieved) -> _Result:
    _refuse_if_blocked(identity, "INSi retrieval")
    ins = ins_from(event.ins.matricule, event.ins.oid, verify_key=False)
    if not key_checks(ins):
        raise InsKeyError(
            "INSi returned an INS whose key does not check (clé erronée): not adopted, "
            "the identity stays as it was",
            hint="report the anomaly to the identity vigilance referent; do not qualify "
            "the identity by hand",
        )
    history = tuple(ins_from(h.matricule, h.oid, verify_key=False) for h in event.history)
    found = normalise_traits(event.traits)
    traits = attrs.evolve(
        found, used_name=identity.traits.used_name, used_first_name=identity.traits.used_first_name
    )
    differences = compare_traits(identity.traits, found).differences
    checked = is_checked(identity.status) and not differences
    if is_checked(identity.status) and differences:
        reason = "INSi identity retrieved; its strict traits differ, the document check is lost"
    else:
        reason = "INSi identity retrieved"
    new = attrs.evolve(
        identity,
        traits=traits,
        ins=ins,
        ins_history=history,
        status=status_for(True, checked),
    )
    return new, reason, differences


def _document_checked(identity: Identity, event: DocumentChecked) -> _Result:
    _refuse_if_blocked(identity, "document check")
    if event.traits is not None:
        comparison = compare_traits(identity.traits, event.traits)
        if not comparison.matches:
            names = ", ".join(comparison.differences)
            raise IdentityError(
                f"document check refused: the document's strict traits differ ({names})",
                hint="correct the identity's traits first, then check the document again",
            )
    status = status_for(is_retrieved(identity.status), True)
    return attrs.evolve(identity, status=status), f"checked against {event.document}", ()


def _traits_modified(identity: Identity, event: TraitsModified) -> _Result:
    traits = normalise_traits(event.traits)
    differences = compare_traits(identity.traits, traits).differences
    if not differences:
        return attrs.evolve(identity, traits=traits), "complementary traits modified", ()
    new = attrs.evolve(identity, traits=traits, ins=None, ins_history=(), status=S.PROVISIONAL)
    reason = "strict traits modified: INSi retrieval and document check to redo"
    return new, reason, differences


def _attribute_set(identity: Identity, event: AttributeSet) -> _Result:
    attribute = event.attribute
    attributes = identity.attributes
    if attribute in attributes:
        return identity, f"already {attribute}", ()
    if A.FICTITIOUS in attributes or (attribute is A.FICTITIOUS and attributes):
        raise IdentityError(
            f"cannot mark the identity {attribute}: "
            "a fictitious identity carries no other attribute"
        )
    new = attrs.evolve(identity, attributes=attributes | {attribute})
    if attribute in _BLOCKING:
        new = attrs.evolve(new, status=S.PROVISIONAL, ins=None, ins_history=())
        return new, _why(f"marked {attribute}: back to PROV, INS dropped", event.reason), ()
    return new, _why(f"marked {attribute}", event.reason), ()


def _attribute_cleared(identity: Identity, event: AttributeCleared) -> _Result:
    attribute = event.attribute
    if attribute not in identity.attributes:
        return identity, f"not {attribute}", ()
    new = attrs.evolve(identity, attributes=identity.attributes - {attribute})
    return new, _why(f"{attribute} cleared", event.reason), ()


def _ins_mismatch(identity: Identity, event: InsMismatch) -> _Result:
    if not is_retrieved(identity.status):
        raise IdentityError(
            f"no INS to invalidate: the identity is {identity.status}",
            hint="an INS mismatch only applies to a RECUP or QUAL identity",
        )
    status = status_for(False, is_checked(identity.status))
    new = attrs.evolve(identity, status=status, ins=None, ins_history=())
    reason = _why("INSi no longer confirms the INS", event.reason)
    return new, reason, tuple(event.differences)


_HANDLERS = {
    InsiRetrieved: _insi_retrieved,
    DocumentChecked: _document_checked,
    TraitsModified: _traits_modified,
    AttributeSet: _attribute_set,
    AttributeCleared: _attribute_cleared,
    InsMismatch: _ins_mismatch,
}
