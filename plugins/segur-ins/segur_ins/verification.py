"""Verification of an INS at each act (RNIV): search INSi again and compare.

A retrieved identity (RECUP or QUAL) is searched again by its traits; the answer must
return the same INS (active, or one of its former ones now replaced) and the same strict
traits. Otherwise the INSi criterion is withdrawn (``InsMismatch``: QUAL→VALI,
RECUP→PROV, INS dropped), the change is journaled, and the pharmacist is asked what to
do (``ins.verify-mismatch``). A technical failure of INSi changes nothing: the identity
is kept and the failure journaled, to be verified at the next act.
"""

from __future__ import annotations

import attrs

from segur_core.model import Option, Patient, Question
from segur_ins import status
from segur_ins.insi import CR_OK, InsiError
from segur_ins.traits import compare_traits

__all__ = ["Verification", "verify"]


@attrs.frozen
class Verification:
    """The result of one verification: ``result`` is ``confirmed``, ``updated`` (INSi
    now returns a newer INS for the same person: re-retrieved), ``mismatch``,
    ``skipped`` (nothing to verify) or ``error`` (INSi unavailable; ``code``)."""

    result: str
    patient: Patient
    differences: tuple[str, ...] = ()
    code: str | None = None
    decision: str | None = None


def verify(service, patient: Patient) -> Verification:
    """Verify ``patient``'s INS with INSi (see the module docstring)."""
    identity = patient.identity
    if not status.is_retrieved(identity.status) or identity.ins is None:
        return Verification("skipped", patient)
    try:
        result = service.search(traits=identity.traits, patient_id=patient.id)
    except InsiError as exc:
        return Verification("error", patient, code=exc.code)
    if result.code == CR_OK and result.identity is not None:
        found = result.identity
        differences = compare_traits(identity.traits, found.traits).differences
        same_ins = found.ins.matricule == identity.ins.matricule
        replaced = any(h.ins.matricule == identity.ins.matricule for h in found.history)
        if same_ins and not differences:
            service.runtime.journal.record(
                "ins.verify", patient_id=patient.id, details={"result": "confirmed"}
            )
            return Verification("confirmed", patient)
        if replaced and not differences:  # the person's INS changed: take the active one
            event = status.InsiRetrieved(
                ins=found.ins, traits=found.traits, history=tuple(h.ins for h in found.history)
            )
            saved, _ = service.change(patient, event, source="insi-verification")
            return Verification("updated", saved)
        reason = "INSi returns another identity" if not same_ins else "strict traits differ"
    else:
        differences = ()
        reason = f"INSi no longer finds the identity (CR {result.code})"
    event = status.InsMismatch(differences=differences, reason=reason)
    saved, _ = service.change(patient, event, source="insi-verification")
    names = tuple(str(d) for d in differences)
    question = Question(
        kind="ins.verify-mismatch",
        prompt=(
            "The INS of this patient is no longer confirmed by INSi "
            f"({reason}; {', '.join(names) or 'no trait detail'}). The identity lost its "
            "INSi qualification. Check the identity with the patient."
        ),
        options=(
            Option("keep", "Keep the identity as it is now (INS withdrawn)"),
            Option("doubtful", "Mark the identity as doubtful"),
        ),
        default="keep",
        patient_id=saved.id,
    )
    decision = service.runtime.host.decide(question).key
    if decision == "doubtful":
        saved, _ = service.change(
            saved,
            status.AttributeSet(attribute="douteuse", reason="INSi verification mismatch"),
            source="insi-verification",
        )
    service.runtime.journal.record(
        "ins.verify",
        outcome="mismatch",
        patient_id=saved.id,
        details={"result": "mismatch", "differences": list(names), "decision": decision},
    )
    return Verification("mismatch", saved, names, decision=decision)
