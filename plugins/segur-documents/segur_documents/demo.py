"""The ``segur demo`` step of this plugin (order 400): the pharmacist records a
vaccination, an entretien pharmaceutique and a bilan partagé de médication; the three
documents are built, checked, validated and left in the demo's output folder."""

from __future__ import annotations

import datetime as dt
import json

from segur_core.model import BirthDate, Identity, IdentityTraits, Patient
from segur_core.plugin import DemoContext
from segur_documents.i18n import _
from segur_documents.models import (
    BilanMedication,
    Entretien,
    MedicationLine,
    TextSection,
    Vaccination,
    Vaccine,
)
from segur_documents.service import DocumentService

__all__ = ["EXAMPLES_PERSON", "demo_contents", "demo_patient", "run_demo_step"]


#: The identity traits of the ANS CDA examples' test person.
EXAMPLES_PERSON = IdentityTraits(
    birth_name="PAT-TROIS",
    first_names=("DOMINIQUE", "MARIE-LOUISE"),
    sex="F",
    birth_date=BirthDate(1979, 3, 28),
    birth_place="51215",
    used_name="PAT-TROIS",
    used_first_name="DOMINIQUE",
)


def demo_patient() -> Patient:
    """A demo patient (the ANS examples' test person), identity not qualified."""
    return Patient(id="DEMO-DOC-0001", identity=Identity(traits=EXAMPLES_PERSON))


def demo_contents(today: dt.date) -> dict[str, object]:
    """What the pharmacist records during the demo."""
    vaccination = Vaccination(
        vaccine=Vaccine(
            cis="68747507",
            label="VACCIN TETANIQUE PASTEUR, suspension injectable en seringue préremplie",
            atc="J07AM",
            atc_label="vaccins tétaniques",
            cip13="3400932857241",
        ),
        lot_number="4456672",
        administered_on=today,
        act="BOOSTER",
        dose_rank=3,
        route="20035000",
        site="16217701000119102",
        comment="Aucune réaction immédiate après 15 minutes de surveillance.",
    )
    entretien = Entretien(
        held_on=today,
        theme="Anticoagulants oraux (AOD)",
        sections=(
            TextSection(
                "Connaissance du traitement",
                "La patiente connaît l'indication et la posologie de son AOD.",
            ),
            TextSection("Observance", "Prise quotidienne régulière, pilulier utilisé."),
            TextSection(
                "Conseils donnés",
                "Signes hémorragiques à surveiller ; pas d'automédication par AINS.",
            ),
        ),
        next_appointment=today + dt.timedelta(days=180),
    )
    bilan = BilanMedication(
        held_on=today,
        medications=(
            MedicationLine(
                "ELIQUIS 5 mg, comprimé pelliculé",
                "3400949497232",
                "1 comprimé matin et soir",
                "Dr MARTIN",
            ),
            MedicationLine("BISOPROLOL 2,5 mg, comprimé", None, "1 comprimé le matin", "Dr MARTIN"),
            MedicationLine(
                "PARACETAMOL 1 g", None, "si douleur, 3 par jour au plus", comment="automédication"
            ),
        ),
        sections=(
            TextSection("Analyse pharmaceutique", "Pas d'interaction cliniquement significative."),
            TextSection("Conclusion", "Bilan transmis au médecin traitant."),
        ),
        attending_physician="Dr Paul MARTIN",
    )
    return {"vaccination": vaccination, "entretien": entretien, "bpm": bilan}


def _compile_schematrons(ctx: DemoContext, service: DocumentService, content: bytes) -> None:
    """Compile the official schematrons this document needs, one timeline line before
    each: the first compilation takes 15-45 s, which the timeline then explains."""
    from segur_core.errors import SegurError

    for sch in service.validator.to_compile([content]):
        ctx.record(
            "documents",
            _("compiling the official schematron {name} (first use: 15-45 s)").format(name=sch),
        )
        try:
            service.validator.schematrons.executable(sch)
        except SegurError:
            return  # the validation reports it


def run_demo_step(ctx: DemoContext) -> None:
    runtime = ctx.runtime
    patient = ctx.data.get("patient")
    if patient is None:
        patient = runtime.host.save_patient(demo_patient())
        ctx.record("pharmacist", _("created a demo patient for the documents"))
    service = DocumentService(runtime)
    documents = ctx.data.setdefault("documents", [])
    for kind, content in demo_contents(dt.date.today()).items():
        draft = service.draft(patient, content)
        for warning in draft.warnings:
            ctx.record("documents", warning, level="warning", kind=kind)
        _compile_schematrons(ctx, service, draft.document.content)
        validated = service.validate(draft.document, patient)  # checked once, there
        report = service.last_report
        assert report is not None
        ctx.artefact(f"documents/{kind}.xml", validated.content)
        if draft.pdf is not None:
            ctx.artefact(f"documents/{kind}.pdf", draft.pdf)
        ctx.artefact(
            f"documents/{kind}.checks.json",
            json.dumps(report.as_dict(), ensure_ascii=False, indent=2),
        )
        documents.append(validated)
        checks = ", ".join(c.split("/")[-1] for c in report.checks)
        ctx.record(
            "pharmacist",
            _("validated {title} (type {type}, version {version}); checks: {checks}").format(
                title=validated.title,
                type=validated.type_code,
                version=validated.version,
                checks=checks,
            )
            + (
                _("; skipped: {what}").format(what="; ".join(report.skipped))
                if report.skipped
                else ""
            ),
            document=validated.id,
            kind=kind,
        )
