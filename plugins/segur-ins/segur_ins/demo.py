"""segur-ins's steps of the counter scenario.

- order 200, *Qualification INSi*: the identity read at the counter (segur-vitale's card
  reading at order 100, or — when segur-vitale is not enabled — a manual reading of the
  CNDA test person ADRUN ZOE) is looked up in the INSi sandbox: RECUP.
- order 250, *Contrôle de la pièce d'identité*: the pharmacist checks the identity card
  (high-trust document): QUAL, and the INS becomes shareable.

Timeline messages show the INS masked (``2 75 12 ** *** *** 74``), never in full.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segur_core.model import BirthDate, CardReading, IdentityTraits, ReadingSource
from segur_core.plugin import DemoStep
from segur_ins.i18n import _
from segur_ins.nir import mask

if TYPE_CHECKING:
    from segur_core.plugin import DemoContext
    from segur_core.runtime import Runtime

__all__ = ["demo_steps"]


def _manual_reading() -> CardReading:
    return CardReading(
        source=ReadingSource.MANUAL,
        traits=IdentityTraits(
            birth_name="ADRUN",
            first_names=("ZOE",),
            sex="F",
            birth_date=BirthDate(1975, 12, 31),
            birth_place="63220",
        ),
    )


def _patient_for(runtime: Runtime, reading: CardReading):
    from segur_ins.traits import normalise_traits

    traits = normalise_traits(reading.traits)
    found = runtime.host.find_patients(
        birth_name=traits.birth_name,
        first_name=traits.first_name,
        birth_date=str(traits.birth_date),
    )
    return found[-1] if found else None


def qualify_step(ctx: DemoContext) -> None:
    runtime = ctx.runtime
    reading = ctx.data.get("card_reading")
    if reading is None:
        reading = _manual_reading()
        ctx.record("segur-ins", _("segur-vitale not enabled: manual reading of a CNDA test person"))
        runtime.card_read(reading)  # on_card_read: segur-ins searches INSi
        ctx.data["card_reading"] = reading
    patient = _patient_for(runtime, reading)
    if patient is None or patient.identity.ins is None:
        raise RuntimeError("the identity read at the counter was not qualified by INSi")
    ctx.data["patient"] = patient
    ctx.record(
        "segur-ins",
        _("INSi (sandbox) returned INS {ins}: identity {status} (récupérée)").format(
            ins=mask(patient.identity.ins.matricule), status=patient.identity.status
        ),
        patient_id=patient.id,
        status=str(patient.identity.status),
    )


def document_step(ctx: DemoContext) -> None:
    from segur_ins.service import service

    runtime = ctx.runtime
    patient = ctx.data.get("patient")
    if patient is None:
        raise RuntimeError("no identified patient to check")
    patient = service(runtime).check_document(patient, "CN")
    ctx.data["patient"] = patient
    shareable = runtime.shareable_ins(patient)
    ctx.record(
        "segur-ins",
        (
            _("pharmacist checked the identity card: identity {status} (qualifiée); INS shareable")
            if shareable
            else _(
                "pharmacist checked the identity card: identity {status} (qualifiée); "
                "INS not shareable"
            )
        ).format(status=patient.identity.status),
        patient_id=patient.id,
        status=str(patient.identity.status),
    )


def demo_steps() -> list[DemoStep]:

    return [
        DemoStep(200, _("INSi qualification of the identity"), qualify_step, plugin="ins"),
        DemoStep(250, _("Identity document check (CNI)"), document_step, plugin="ins"),
    ]
