"""``segur mss directory``: import the MSSanté directory extraction, search it.

- ``segur mss directory import FILE [--json]``: import or update (incremental: the
  address is the key) from the ``.txt`` or the ``.zip`` as published, with a progress
  bar on a terminal;
- ``segur mss directory search TEXT [--kind K] [--profession CODE] [--limit N] [--json]``.

The database is ``mss-directory.sqlite`` in the data directory. Errors are one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from segur_core.cli import pass_runtime
from segur_core.cli.output import emit_json, json_option

if TYPE_CHECKING:
    from segur_core.runtime import Runtime

__all__ = ["directory"]


def _open(runtime: Runtime):
    from segur_mssante.directory import Directory

    return Directory.in_data_dir(runtime.data_dir)


@click.group("directory")
def directory() -> None:
    """The MSSanté directory (open-data extraction): import, search."""


@directory.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@json_option
@pass_runtime
def import_(runtime: Runtime, file: str, as_json: bool) -> None:
    """Import FILE, the '|'-separated "Extraction correspondance MSSanté" (.txt, or the
    .zip holding it as published): new addresses added, changed rows updated, absent
    addresses removed."""
    from segur_core.cli.progress import progress

    with _open(runtime) as store, progress("reading", enabled=not as_json) as bar:

        def advance(stage: str, done: int, total: int) -> None:
            if stage == "read":
                bar.update(completed=done, total=total)
            else:
                bar.update(description="updating the directory")

        report = store.import_file(file, on_progress=advance)
        size = len(store)
    data = report.as_dict() | {"mailboxes": size}
    if as_json:
        emit_json(data)
        return
    click.echo(
        f"directory: {size:,} mailboxes (added {report.added:,}, changed {report.changed:,}, "
        f"removed {report.removed:,}, unchanged {report.unchanged:,}) in {report.seconds:.1f} s"
    )
    if report.duplicates:
        click.echo(f"{report.duplicates:,} row(s) repeating an address (the first kept)")
    if report.bad_rows:
        reasons = ", ".join(f"{k}: {v:,}" for k, v in sorted(report.bad_reasons.items()))
        lines = ", ".join(map(str, report.bad_lines))
        click.echo(f"{report.bad_rows:,} bad row(s) skipped ({reasons}; lines {lines}...)")


@directory.command("search")
@click.argument("text")
@click.option(
    "--kind", type=click.Choice(["PER", "ORG", "APP", "CAB"], case_sensitive=False),
    help="Only this mailbox type (personal, organisational, applicative, cabinet).",
)  # fmt: skip
@click.option("--profession", metavar="CODE", help='Only this profession code ("21": pharmacien).')
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@pass_runtime
def search(
    runtime: Runtime, text: str, kind: str | None, profession: str | None, limit: int, as_json: bool
) -> None:
    """Search the directory for TEXT (names, RPPS, structure, town, profession, address;
    accents and case ignored; words may be prefixes), best matches first."""
    import attrs

    with _open(runtime) as store:
        if not len(store):
            raise click.ClickException(
                "the MSSanté directory is empty: import the extraction first "
                "(segur mss directory import FILE)"
            )
        found = store.search(text, limit=limit, kind=kind, profession=profession)
    if as_json:
        emit_json({"entries": [attrs.asdict(e) for e in found]})
        return
    if not found:
        click.echo("no match")
    for entry in found:
        who = " ".join(p for p in (entry.first_name, entry.family_name) if p)
        parts = [entry.kind, who, entry.profession_label, entry.organisation, entry.line6]
        click.echo(" | ".join([p for p in parts if p] + [entry.mssante_address]))
