"""Hook implementations of segur-eprescription (entry point ``eprescription`` in group
``segur``).

Imported by ``segur plugins``: everything heavy (lxml, the client, the sandbox) is
imported inside the hooks that need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core import hookimpl
from segur_core.plugin import PluginInfo, distribution_version

if TYPE_CHECKING:
    import datetime as dt

    from segur_core.plugin import ExportSection
    from segur_core.runtime import Runtime

NAME = "eprescription"


@hookimpl
def segur_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        version=distribution_version("segur-eprescription"),
        summary="Ordonnance numérique: scan, read (eP-MED-DM), dispense, eDISP-MED",
        capabilities=("eprescription",),
        requires_core=">=0.1,<1",
        config_class="segur_eprescription.config:EPrescriptionConfig",
    )


@hookimpl
def segur_outbox_senders(runtime: Runtime) -> dict[str, Any]:
    from segur_eprescription.service import DISPENSATION_KIND, service_for

    return {DISPENSATION_KIND: service_for(runtime).send}


@hookimpl
def segur_sandboxes(runtime: Runtime) -> list[Any]:
    # Without the "sandbox" extra it is listed all the same: starting it says what to install.
    from segur_eprescription.sandbox import EPrescriptionSandbox

    return [EPrescriptionSandbox(pki=runtime.test_pki())]


@hookimpl
def segur_export_sections(
    patient_id: str | None, since: dt.datetime | None, runtime: Runtime
) -> list[ExportSection]:
    """The e-prescriptions read for the patient and the dispensations reported, from the
    journal (portability export)."""
    if patient_id is None:
        return []
    from segur_eprescription.export import eprescription_sections

    return eprescription_sections(runtime, patient_id, since)


@hookimpl
def segur_cli_commands(cli: Any) -> None:
    from segur_eprescription.cli import eprescription

    cli.add_command(eprescription)


@hookimpl
def segur_demo_steps(runtime: Any) -> list[Any]:
    from segur_core.plugin import DemoStep
    from segur_eprescription.demo import run_demo_step
    from segur_eprescription.i18n import _

    return [
        DemoStep(
            order=300,
            title=_("E-prescription: scan, dispense, eDISP-MED"),
            run=run_demo_step,
            plugin=NAME,
        )
    ]
