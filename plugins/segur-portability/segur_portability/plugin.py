"""Hook implementations of segur-portability (entry point ``portability`` in group ``segur``).

Imported by ``segur plugins``: everything heavy (lxml, jsonschema, signxml) is imported
inside the hooks that need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core import hookimpl
from segur_core.plugin import PluginInfo, distribution_version

if TYPE_CHECKING:
    import datetime as dt

    from segur_core.model import HealthDocument, Origin, Patient
    from segur_core.plugin import ExportSection
    from segur_core.runtime import Runtime

NAME = "portability"


@hookimpl
def segur_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        version=distribution_version("segur-portability"),
        summary="Portability: signed export of the Ségur perimeter (PDLGC), verify, import",
        capabilities=("portability", "portability.export", "portability.import"),
        requires_core=">=0.1,<1",
        config_class="segur_portability.config:PortabilityConfig",
    )


@hookimpl
def segur_export_sections(
    patient_id: str | None, since: dt.datetime | None, runtime: Runtime
) -> list[ExportSection]:
    """The host's data (identity, dispensations, consents) and the audit records of a
    patient; the structure and the other audit records in the transverse part."""
    from segur_portability.sections import patient_sections, transverse_sections

    if patient_id is None:
        return transverse_sections(runtime, since)
    return patient_sections(runtime, patient_id, since)


@hookimpl
def on_document_validated(document: HealthDocument, patient: Patient, runtime: Runtime) -> None:
    """Keep the document's XDS entry for the exports to come (:mod:`.entries`)."""
    from segur_portability.entries import keep_entry

    keep_entry(runtime, document)


@hookimpl
def on_document_received(document: HealthDocument, origin: Origin, runtime: Runtime) -> None:
    """Keep the received document's XDS entry for the exports to come (:mod:`.entries`)."""
    from segur_portability.entries import keep_entry

    keep_entry(runtime, document)


@hookimpl
def segur_cli_commands(cli: Any) -> None:
    from segur_portability.cli import export, import_

    cli.add_command(export)
    cli.add_command(import_)
