"""``segur ins``: check a NIR/NIA, qualify and verify patients with INSi.

- ``segur ins check NUMBER``: parse and check a NIR/NIA (no network);
- ``segur ins qualify PATIENT``: INSi traits search for one patient;
- ``segur ins qualify --all``: every patient not yet retrieved (progress bar,
  ``--concurrency``, ``--rate``, ``--processes``; resumable after an interruption; summary table);
- ``segur ins verify PATIENT``: re-search and compare (verification at an act);
- ``segur ins identity-check PATIENT --document cni``: record the high-trust identity
  document the pharmacist checked (QUAL once the INS was retrieved).

Output never shows a full identifier: matricules are masked.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import click

from segur_core.cli import pass_runtime
from segur_core.cli.output import emit_json, json_option
from segur_core.cli.params import patient_argument
from segur_core.errors import SegurError
from segur_ins.api import DOCUMENTS  # the API and the command line name them alike
from segur_ins.i18n import _, ngettext

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["ins"]


def _emit(data: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        emit_json(data)
    else:
        click.echo(text)


def _service(runtime: Runtime):
    from segur_ins.service import service

    return service(runtime)


def _patient(runtime: Runtime, patient_id: str):
    patient = runtime.host.get_patient(patient_id)
    if patient is None:
        raise click.ClickException(_("no patient {id!r} in the host").format(id=patient_id))
    return patient


@click.group("ins")
def ins() -> None:
    """INS identities: NIR/NIA checks, INSi qualification and verification."""


@ins.command("check")
@click.argument("number")
@json_option
def check(number: str, as_json: bool) -> None:
    """Check a NIR/NIA NUMBER (15 characters; spaces and dots ignored). No network."""
    from segur_ins.nir import Nir, NirError

    try:
        nir = Nir.parse(number)
    except NirError as exc:
        _emit(
            {"valid": False, "part": exc.part, "error": exc.message},
            as_json,
            _("invalid: {error}").format(error=exc),
        )
        raise SystemExit(1) from None
    data = {
        "valid": True,
        "sex": str(nir.sex),
        "birth_month": nir.birth_month,
        "birth_place": nir.birth_place,
        "born_abroad": nir.born_abroad,
        "temporary": nir.temporary,
    }
    place = (
        _("born abroad (country code {code})")
        if nir.born_abroad
        else _("born in France (place code {code})")
    ).format(code=nir.birth_place)
    kind = _("temporary NIA") if nir.temporary else "NIR/NIA"
    _emit(
        data,
        as_json,
        _("valid {kind}: sex {sex}, {place}").format(kind=kind, sex=nir.sex, place=place),
    )


@ins.command("qualify")
@patient_argument(required=False)
@click.option("--all", "all_", is_flag=True, help="Every patient not yet retrieved from INSi.")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Parallel INSi requests.")
@click.option("--rate", type=click.FloatRange(0), help="Maximum requests per second (0: none).")
@click.option(
    "--processes", type=click.IntRange(0, 64),
    help="Worker processes making the INSi calls (0: none; default: automatic).",
)  # fmt: skip
@json_option
@pass_runtime
def qualify(
    runtime: Runtime, patient: str | None, all_: bool, concurrency: int | None,
    rate: float | None, processes: int | None, as_json: bool,
) -> None:  # fmt: skip
    """Qualify PATIENT (or --all) with an INSi traits search."""
    patient_id = patient
    if all_ == bool(patient_id):
        raise click.UsageError(_("give a PATIENT id or --all"))
    service = _service(runtime)
    if all_:
        _qualify_all(service, concurrency, rate, processes, as_json)
        return
    from segur_ins.nir import mask

    outcome = service.qualify(_patient(runtime, patient_id), interactive=not as_json)
    identity = outcome.patient.identity if outcome.patient else None
    data = {
        "patient": patient_id,
        "result": outcome.result,
        "code": outcome.code,
        "status": str(identity.status) if identity else None,
    }
    ins_text = mask(identity.ins.matricule) if identity and identity.ins else "-"
    text = _("{patient}: {result} (status {status}, INS {ins})").format(
        patient=patient_id, result=outcome.result, status=data["status"], ins=ins_text
    )
    _emit(data, as_json, text)
    if outcome.result == "error":
        raise SystemExit(2)


def _qualify_all(
    service: Any, concurrency: int | None, rate: float | None, processes: int | None,
    as_json: bool,
) -> None:  # fmt: skip
    from segur_core.cli.output import console as new_console
    from segur_core.cli.output import table
    from segur_core.cli.progress import progress
    from segur_ins.batch import qualify_all

    stop = threading.Event()
    with progress(_("INSi qualification"), count=True, enabled=not as_json) as bar:
        try:
            summary = qualify_all(
                service,
                concurrency=concurrency,
                rate_limit=rate,
                processes=processes,
                on_start=lambda total: bar.update(total=total),
                on_done=lambda _outcome: bar.advance(),
                stop=stop,
            )
        except KeyboardInterrupt:
            stop.set()
            click.echo(_("interrupted: progress kept, run the command again to resume"), err=True)
            raise SystemExit(130) from None
    data = {
        "counts": summary.counts,
        "errors": summary.errors,
        "resumed": summary.resumed,
        "seconds": round(summary.seconds, 3),
        "completed": summary.completed,
        "processes": summary.processes,
    }
    if as_json:
        emit_json(data)
        return
    grid = table(_("INSi qualification"), {_("result"): "text", _("patients"): "key"})
    for result, count in sorted(summary.counts.items()):
        grid.add_row(result, str(count))
    for code, count in sorted(summary.errors.items()):
        grid.add_row("  " + _("error {code}").format(code=code), str(count))
    if summary.resumed:
        grid.add_row(_("done by an earlier run"), str(summary.resumed))
    console = new_console()
    console.print(grid)
    console.print(
        ngettext(
            "{n} patient in {seconds:.1f} s", "{n} patients in {seconds:.1f} s", summary.total
        ).format(n=summary.total, seconds=summary.seconds)
    )


@ins.command("verify")
@patient_argument()
@json_option
@pass_runtime
def verify(runtime: Runtime, patient: str, as_json: bool) -> None:
    """Verify PATIENT's INS with INSi (re-search by traits and compare)."""
    patient_id = patient
    from segur_ins.verification import verify as run_verify

    try:
        result = run_verify(_service(runtime), _patient(runtime, patient_id))
    except SegurError as exc:
        raise click.ClickException(str(exc)) from None
    data = {
        "patient": patient_id,
        "result": result.result,
        "status": str(result.patient.identity.status),
        "differences": list(result.differences),
        "code": result.code,
    }
    _emit(
        data,
        as_json,
        _("{patient}: {result} (status {status})").format(
            patient=patient_id, result=result.result, status=data["status"]
        ),
    )
    if result.result == "mismatch":
        raise SystemExit(3)


def _document_code(ctx: click.Context, param: click.Parameter, value: str) -> str:
    code = DOCUMENTS.get(value.strip().lower())
    if code is None:
        raise click.BadParameter(
            _("{value!r} is not a high-trust document; one of: {documents}").format(
                value=value[:40], documents=", ".join(DOCUMENTS)
            )
        )
    return code


@ins.command("identity-check")
@patient_argument()
@click.option(
    "--document", required=True, callback=_document_code,
    help=f"The document checked: {', '.join(DOCUMENTS)}.",
)  # fmt: skip
@json_option
@pass_runtime
def identity_check(runtime: Runtime, patient: str, document: str, as_json: bool) -> None:
    """Record that the pharmacist checked PATIENT's identity on a high-trust document."""
    patient_id = patient
    try:
        patient = _service(runtime).check_document(_patient(runtime, patient_id), document)
    except SegurError as exc:
        raise click.ClickException(str(exc)) from None
    data = {
        "patient": patient_id,
        "document": document,
        "status": str(patient.identity.status),
    }
    _emit(
        data,
        as_json,
        _("{patient}: {document} checked (status {status})").format(
            patient=patient_id, document=document, status=data["status"]
        ),
    )
