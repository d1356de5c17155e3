"""``segur cda``: validate, show and create CDA documents from the command line."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from segur_core.cli.output import emit_json, json_option
from segur_core.cli.params import (
    InputFile,
    PathParam,
    out_option,
    patient_option,
    read_bounded,
    short,
)
from segur_documents.i18n import _

__all__ = ["cda"]

#: Largest CDA file read (the hardened XML parser's own default limit).
MAX_CDA_BYTES = 50 * 1024 * 1024

KINDS = ("vaccination", "entretien", "bpm")


def _config(kit: str | None, no_schematron: bool):
    from segur_documents.config import DocumentsConfig

    config = DocumentsConfig()
    try:
        from segur_core.cli import get_state
        from segur_core.config import structure_table

        config = structure_table(get_state().config(), "documents", DocumentsConfig)
    except Exception:  # no segur.toml or no [documents] table: defaults
        pass
    import attrs

    changes: dict[str, object] = {}
    if kit:
        changes["kit_path"] = kit
    if no_schematron:
        changes["schematron"] = False
    return attrs.evolve(config, **changes) if changes else config


@click.group("cda")
def cda() -> None:
    """CI-SIS CDA R2 documents: validate, show, create."""


def compile_schematrons(validator, documents, *, enabled: bool = True) -> None:
    """Compile now, with progress on a terminal, the official schematrons ``documents``
    need that this process has not compiled yet: each one's first compilation is 15-45 s
    of silence otherwise. Without a terminal (or with ``--json``) nothing is done here:
    the validation compiles them as before."""
    from segur_core.cli.progress import progress, shows_progress
    from segur_core.errors import SegurError

    if not shows_progress(enabled):
        return
    todo = validator.to_compile(documents)
    if not todo:
        return
    with progress(_("compiling the official schematrons"), total=len(todo)) as bar:
        bar.note(
            _(
                "compiling {n} official schematron(s) on first use (15-45 s each, once per process)"
            ).format(n=len(todo))
        )
        for sch in todo:
            bar.update(description=_("compiling {name}").format(name=sch.rsplit("/", 1)[-1]))
            with contextlib.suppress(SegurError):  # the validation reports it with the document
                validator.schematrons.executable(sch)
            bar.advance()


@cda.command("validate")
@click.argument("files", nargs=-1, required=True, type=InputFile(MAX_CDA_BYTES))
@json_option
@click.option("--kit", type=PathParam(file_okay=False), help="TestContenuCDA kit folder.")
@click.option("--no-schematron", is_flag=True, help="Skip the official schematrons (fast).")
@click.option(
    "--local", is_flag=True,
    help="Check in this process even when a segur service is configured ([segur.serve]).",
)  # fmt: skip
def validate(
    files: tuple[str, ...], as_json: bool, kit: str | None, no_schematron: bool, local: bool
) -> None:
    """Check CDA FILES against the kit's XSD and official schematrons (exit 1 if invalid).

    With a ``[segur.serve]`` table, the running ``segur serve`` checks them with its warm
    validator (no 15 s schematron compilation); without an answer, this process does."""
    contents = {str(name): read_bounded(name, MAX_CDA_BYTES) for name in files}
    results = None
    if not (local or kit or no_schematron):
        results = _validate_with_service(contents)
    if results is None:
        results = _validate_here(contents, _config(kit, no_schematron), as_json)
    if as_json:
        emit_json({
            "valid": all(r.valid for r in results.values()),
            "files": [{"file": name, **r.as_dict()} for name, r in results.items()],
        })  # fmt: skip
    else:
        for name, report in results.items():
            status = _("VALID") if report.valid else _("INVALID")
            click.echo(
                _("{file}: {status} ({errors} error(s), {warnings} warning(s))").format(
                    file=name,
                    status=status,
                    errors=len(report.errors),
                    warnings=len(report.issues) - len(report.errors),
                )
            )
            click.echo("  " + _("checks: {names}").format(names=", ".join(report.checks)))
            for skipped in report.skipped:
                click.echo("  " + _("skipped: {what}").format(what=skipped))
            for issue in report.issues:
                click.echo(f"  [{issue.severity}] {issue.source}: {issue.message}")
                if issue.location:
                    click.echo("      " + _("at {location}").format(location=issue.location))
    if not all(r.valid for r in results.values()):
        sys.exit(1)


def _validate_here(contents: dict[str, bytes], config: Any, as_json: bool) -> dict[str, Any]:
    """The reports of this process's validator (the schematrons compiled first, with
    progress on a terminal)."""
    from segur_core.cli.progress import progress
    from segur_documents.service import validator_for

    validator = validator_for(config)
    compile_schematrons(validator, contents.values(), enabled=not as_json)
    results = {}
    shown = not as_json and len(contents) > 1
    with progress(_("validating"), total=len(contents), enabled=shown) as bar:
        for name, content in contents.items():
            bar.update(description=_("validating {name}").format(name=Path(name).name))
            results[name] = validator.validate(content)
            bar.advance()
    return results


def _validate_with_service(contents: dict[str, bytes]) -> dict[str, Any] | None:
    """The reports of the configured ``segur serve`` (``None`` when none is configured
    or none answers: the caller checks in process)."""
    from segur_core.cli import get_state
    from segur_core.errors import ValidationIssue
    from segur_core.serve.client import ServeClient, ServiceUnavailable
    from segur_core.serve.settings import ServeSettings
    from segur_documents.checks.validator import ValidationReport

    config = get_state().config()
    if config.settings.serve is None:
        return None
    results = {}
    with ServeClient.from_settings(ServeSettings.from_config(config)) as client:
        for name, content in contents.items():
            try:
                data = client.request(
                    "POST", "/documents/check", content=content, media_type="application/xml"
                )
            except ServiceUnavailable as exc:
                click.echo(_("note: {error}; checking in this process").format(error=exc), err=True)
                return None
            issues = [ValidationIssue(**issue) for issue in data["issues"]]
            results[name] = ValidationReport(issues, data["checks"], data["skipped"])
    return results


@cda.command("show")
@click.argument("file", type=InputFile(MAX_CDA_BYTES))
@json_option
def show(file: str, as_json: bool) -> None:
    """Summarise a CDA FILE (type, patient, author, organisation, body)."""
    from segur_core.cli.output import console, table, when
    from segur_documents.reader import read_cda

    doc = read_cda(read_bounded(file, MAX_CDA_BYTES))
    if as_json:
        emit_json(_summary(doc))
        return
    grid = table(doc.title or file, {_("field"): "key", _("value"): "text"}, show_header=False)
    patient = doc.patient
    traits = patient.traits if patient else None
    author = doc.authors[0] if doc.authors else None
    org = doc.organization
    rows = [
        (_("Document id"), doc.id),
        (_("Set id / version"), f"{doc.set_id} / {doc.version}"),
        (_("Type"), f"{doc.type.code} {doc.type.display or ''}" if doc.type else "-"),
        (_("Date"), when(doc.effective_time, empty="-")),
        (
            _("Level"),
            f"{doc.level} ({doc.body_kind}{', ' + doc.media_type if doc.media_type else ''})",
        ),
        (_("Templates"), ", ".join(doc.templates)),
        (
            _("Patient INS"),
            f"{patient.ins.matricule} ({patient.ins.oid})"
            if patient and patient.ins
            else _("none (local identifiers only)"),
        ),
        (
            _("Patient"),
            _("{name}, {sex}, born {date}").format(
                name=f"{traits.birth_name} {' '.join(traits.first_names)}",
                sex=traits.sex,
                date=traits.birth_date,
            )
            if traits
            else "-",
        ),
        (
            _("Author"),
            f"{author.given_name or ''} {author.family_name or ''} "
            f"({author.profession.display if author.profession else '-'})"
            if author
            else "-",
        ),
        (_("Organisation"), f"{org.name} ({org.id})" if org else "-"),
        (_("Replaces"), doc.replaces or "-"),
        (_("Sections"), ", ".join(doc.sections) or "-"),
        (
            _("Attachments"),
            ", ".join(
                _("{type} {n} bytes").format(type=a.media_type, n=len(a.data))
                for a in doc.attachments
            )
            or "-",
        ),
    ]
    for label, value in rows:
        grid.add_row(label, str(value))
    console().print(grid)


def _summary(doc) -> dict[str, object]:
    """What ``cda show`` prints, as the JSON object of ``--json`` (the INS masked)."""
    from segur_core.cli.output import parse_time
    from segur_core.model import mask_matricule

    patient = doc.patient
    traits = patient.traits if patient else None
    org = doc.organization
    return {
        "id": doc.id,
        "set_id": doc.set_id,
        "version": doc.version,
        "title": doc.title,
        "type": doc.type.code if doc.type else None,
        "type_display": doc.type.display if doc.type else None,
        "effective_time": (
            parsed.isoformat() if (parsed := parse_time(doc.effective_time)) else None
        ),
        "level": doc.level,
        "body_kind": doc.body_kind,
        "media_type": doc.media_type,
        "templates": list(doc.templates),
        "patient": None if patient is None else {
            "ins": mask_matricule(patient.ins.matricule) if patient.ins else None,
            "ins_oid": patient.ins.oid if patient.ins else None,
            "birth_name": traits.birth_name if traits else None,
            "first_names": list(traits.first_names) if traits else [],
            "sex": str(traits.sex) if traits else None,
            "birth_date": str(traits.birth_date) if traits else None,
        },
        "authors": [
            {"given_name": a.given_name, "family_name": a.family_name,
             "profession": a.profession.display if a.profession else None}
            for a in doc.authors
        ],
        "organization": {"id": org.id, "name": org.name} if org else None,
        "replaces": doc.replaces,
        "sections": list(doc.sections),
        "attachments": [
            {"media_type": a.media_type, "bytes": len(a.data)} for a in doc.attachments
        ],
    }  # fmt: skip


def _prompt_content(kind: str):
    from segur_documents.models import (
        BilanMedication,
        Entretien,
        MedicationLine,
        TextSection,
        Vaccination,
        Vaccine,
    )

    today = dt.date.today()

    def date(label: str) -> dt.date:
        text = click.prompt(label, default=today.isoformat())
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise click.ClickException(f"date {text!r} is not YYYY-MM-DD") from None

    if kind == "vaccination":
        vaccine = Vaccine(
            cis=click.prompt("CIS code"),
            label=click.prompt("Vaccine label"),
            atc=click.prompt("ATC code"),
            atc_label=click.prompt("ATC label"),
            cip13=click.prompt("CIP13 (empty: none)", default="", show_default=False) or None,
        )
        rank = click.prompt("Dose rank (0: unknown)", type=int, default=0)
        return Vaccination(
            vaccine=vaccine,
            lot_number=click.prompt("Lot number"),
            administered_on=date("Date (YYYY-MM-DD)"),
            act=click.prompt(
                "Act", type=click.Choice(["INITIMMUNIZ", "BOOSTER", "IMMUNIZ"]), default="IMMUNIZ"
            ),
            dose_rank=rank or None,
            route=click.prompt("Route EDQM code (empty: none)", default="", show_default=False)
            or None,
            site=click.prompt("Site SNOMED CT code (empty: none)", default="", show_default=False)
            or None,
        )
    sections = []
    while True:
        title = click.prompt("Section title (empty: done)", default="", show_default=False)
        if not title:
            break
        sections.append(TextSection(title, click.prompt("Text")))
    if kind == "entretien":
        return Entretien(
            held_on=date("Date (YYYY-MM-DD)"), theme=click.prompt("Theme"), sections=sections
        )
    medications = []
    while True:
        label = click.prompt("Medication (empty: done)", default="", show_default=False)
        if not label:
            break
        medications.append(MedicationLine(label, dosage=click.prompt("Dosage", default="")))
    return BilanMedication(
        held_on=date("Date (YYYY-MM-DD)"), medications=medications, sections=sections
    )


@cda.command("new")
@click.argument("kind", type=click.Choice(KINDS))
@patient_option()
@click.option(
    "--from-json",
    "json_file",
    type=InputFile(MAX_CDA_BYTES),
    help="Content as JSON (the fields of Vaccination, Entretien or BilanMedication).",
)
@out_option(type=PathParam(dir_okay=False), help="Where to write the CDA XML.")
@click.option(
    "--validate/--draft",
    "do_validate",
    default=False,
    help="Validate (legally authenticate) the document after building it.",
)
@json_option
def new(
    kind: str,
    patient: str | None,
    json_file: str | None,
    out: str | None,
    do_validate: bool,
    as_json: bool,
) -> None:
    """Create a document of KIND for a patient, interactively or from a JSON file."""
    from segur_core.cli import get_runtime
    from segur_core.convert import structure
    from segur_core.errors import DocumentError
    from segur_documents.models import BilanMedication, Entretien, Vaccination
    from segur_documents.service import DocumentService

    if as_json and not (patient and json_file):
        raise click.UsageError(_("--json needs --patient and --from-json (no questions asked)"))
    runtime = get_runtime()
    patient_id = patient or click.prompt("Patient id")
    found = runtime.host.get_patient(patient_id)
    if found is None:
        raise click.ClickException(_("no patient {id!r} in the host").format(id=patient_id))
    cls = {"vaccination": Vaccination, "entretien": Entretien, "bpm": BilanMedication}[kind]
    if json_file:
        try:
            content = structure(json.loads(read_bounded(json_file, MAX_CDA_BYTES)), cls)
        except Exception as exc:
            raise click.ClickException(
                _("{file}: not a valid {kind}: {error}").format(
                    file=json_file, kind=cls.__name__, error=exc
                )
            ) from None
    else:
        try:
            content = _prompt_content(kind)
        except (ValueError, TypeError) as exc:  # a model validator refused an answer
            raise click.ClickException(
                _("invalid {kind}: {error}").format(kind=kind, error=exc)
            ) from None
    service = DocumentService(runtime)
    result = service.draft(found, content)
    document = result.document
    for warning in result.warnings:
        click.echo(_("warning: {what}").format(what=warning), err=True)
    if do_validate:
        try:
            compile_schematrons(service.validator, [document.content], enabled=not as_json)
            document = service.validate(document, found)
        except DocumentError as exc:
            for issue in exc.issues:
                click.echo(
                    f"  [{issue.severity}] {issue.message} "
                    + _("at {location}").format(location=issue.location),
                    err=True,
                )
            raise click.ClickException(str(exc)) from None
        for skipped in service.last_report.skipped if service.last_report else ():
            click.echo(_("warning: {what}").format(what=skipped), err=True)
    target = Path(out or f"{kind}-{document.version}.xml")
    try:
        target.write_bytes(document.content)
    except OSError as error:
        raise click.ClickException(
            _("cannot write {path}: {reason}").format(path=short(target), reason=error.strerror)
        ) from None
    if as_json:
        emit_json({"document": document.id, "status": str(document.status),
                   "title": document.title, "version": document.version, "out": str(target),
                   "warnings": list(result.warnings)})  # fmt: skip
        return
    click.echo(
        _("{status}: {title} -> {file} (id {id})").format(
            status=document.status, title=document.title, file=target, id=document.id
        )
    )
