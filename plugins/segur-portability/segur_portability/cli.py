"""``segur export`` (with ``segur export verify``) and ``segur import``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from segur_core.cli.output import emit_json, json_option
from segur_core.cli.params import PathParam, out_option
from segur_core.cli.params import moment as parse_moment

__all__ = ["export", "import_"]


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on a terminal (never with --json), as a ``(done, total)``
    callback."""
    from segur_core.cli.progress import progress

    with progress(label, count=True, enabled=not quiet) as bar:
        yield lambda done, total: bar.update(completed=done, total=total)


_ARCHIVE = click.argument("archive", type=PathParam(exists=True, dir_okay=False, path_type=Path))
_CA = click.option(
    "--ca",
    "ca",
    type=PathParam(exists=True, dir_okay=False, path_type=Path),
    help="CA bundle the signer must chain to (default: [portability] ca_bundle, or the "
    "test PKI outside production).",
)


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc))


@click.group("export", invoke_without_command=True)
@out_option(
    type=PathParam(file_okay=False, path_type=Path),
    help="Folder to write PA<timestamp>.ZIP in.",
)
@click.option(
    "--patient",
    "patients",
    metavar="PATIENT",
    multiple=True,
    help="A patient's local id (repeat for several); all patients by default.",
)
@click.option("--since", help="Only data dated at or after this date (YYYY-MM-DD).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes building the patients' archives (a massive export on several cores).",
)
@json_option
@click.pass_context
def export(
    ctx: click.Context,
    out: Path | None,
    patients: tuple[str, ...],
    since: str | None,
    workers: int,
    as_json: bool,
) -> None:
    """Export the Ségur-perimeter data in a signed portability archive (PDLGC layout)."""
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise click.UsageError("--out DIR is required (or: segur export verify ARCHIVE)")
    from segur_core.cli import get_runtime
    from segur_core.errors import SegurError
    from segur_portability.signing import signer_for
    from segur_portability.writer import export_archive

    moment = parse_moment(since)
    runtime = get_runtime()
    try:
        with _progress("export", as_json) as progress:
            result = export_archive(
                runtime,
                out,
                signer=signer_for(runtime),
                source_id=runtime.plugin_config("portability").source_id,
                patient_ids=list(patients) or None,
                since=moment,
                progress=progress,
                workers=workers,
            )
    except SegurError as exc:
        _fail(exc)
        return
    except KeyboardInterrupt:
        click.echo("interrupted: no archive was written", err=True)
        raise SystemExit(130) from None
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(
        f"{result.path}: {result.patients} patients, {result.documents} documents, "
        f"{result.size} bytes ({result.export_type}, {result.export_status}) "
        f"in {result.seconds:.1f} s"
    )


@export.command("verify")
@_ARCHIVE
@_CA
@json_option
def verify(archive: Path, ca: Path | None, as_json: bool) -> None:
    """Check ARCHIVE: signature, sizes, hashes, schemas; what is missing, added, altered."""
    from segur_core.cli import get_runtime
    from segur_core.errors import SegurError
    from segur_portability.signing import trust_for
    from segur_portability.verify import verify_archive

    try:
        trust = str(ca) if ca is not None else trust_for(get_runtime())
        with _progress("verify", as_json) as progress:
            report = verify_archive(archive, ca_pem_file=trust, progress=progress)
    except SegurError as exc:
        _fail(exc)
        return
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(f"signed by: {report.signer or '-'}")
        click.echo(f"patients: {report.patients}")
        for problem in report.problems:
            click.echo(f"{problem.kind:<9} {problem.path}  {problem.detail}")
        click.echo("OK" if report.ok else f"{len(report.problems)} problems")
    if not report.ok:
        raise SystemExit(1)


@click.command("import")
@_ARCHIVE
@_CA
@json_option
def import_(archive: Path, ca: Path | None, as_json: bool) -> None:
    """Import a verified portability archive into the host (known patients are left as they are)."""
    from segur_core.cli import get_runtime
    from segur_core.errors import SegurError
    from segur_portability.importer import import_archive
    from segur_portability.signing import trust_for

    runtime = get_runtime()
    try:
        trust = str(ca) if ca is not None else trust_for(runtime)
        with _progress("import", as_json) as progress:
            result = import_archive(runtime, archive, ca_pem_file=trust, progress=progress)
    except SegurError as exc:
        _fail(exc)
        return
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(
        f"imported {result.patients} patients ({result.skipped} already known, left as they "
        f"were), {result.documents} documents, {result.dispensations} dispensations, "
        f"{result.consents} consents"
    )
