"""Hook implementations of segur-dmp (entry point ``dmp`` in group ``segur``).

Imported by ``segur plugins``: the config class is a lazy reference and everything heavy
(attrs, httpx, signxml, the sandbox) is imported inside the hooks that need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core import hookimpl
from segur_core.plugin import DoctorResult, PluginInfo, distribution_version

if TYPE_CHECKING:
    import datetime as dt

    from segur_core.host import Host
    from segur_core.plugin import DemoStep, DoctorCheck, ExportSection, Recipient
    from segur_core.runtime import Runtime
    from segur_dmp.config import DMPConfig

NAME = "dmp"


@hookimpl
def segur_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        version=distribution_version("segur-dmp"),
        summary="DMP: access check, automatic feed, consultation, masking (XDS.b, VIHF)",
        capabilities=("dmp", "dmp.feed", "dmp.consultation"),
        requires_core=">=0.1,<1",
        config_class="segur_dmp.config:DMPConfig",
    )


@hookimpl
def segur_api_routes(runtime: Runtime) -> list[Any]:
    from segur_dmp.api import routes

    return routes()


@hookimpl
def on_document_validated(document: Any, patient: Any, runtime: Runtime) -> None:
    """Queue the validated document for the DMP (idempotent on its unique id)."""
    config: DMPConfig = runtime.plugin_config(NAME)
    if not config.auto_feed:
        return
    from segur_dmp.errors import AccessRefused
    from segur_dmp.service import service_for

    service = service_for(runtime)
    try:
        service.enqueue(document, patient)
    except AccessRefused as exc:  # no qualified INS: the document stays local
        service.feed_skipped(document, patient.id, exc)


@hookimpl
def on_patient_identified(patient: Any, identity: Any, source: str, runtime: Runtime) -> None:
    """Once the identity is qualified, run the DMP access check (TD0.2) so the counter
    screen can show whether the patient has a DMP and whether this pharmacy may read it
    (``service_for(runtime).last_access(patient.id)``)."""
    config: DMPConfig = runtime.plugin_config(NAME)
    if not config.check_on_identification or runtime.shareable_ins(patient) is None:
        return
    from segur_dmp.service import service_for

    service_for(runtime).check_access(patient.id)


@hookimpl
def on_delivery_settled(delivery: Any, runtime: Runtime) -> None:
    from segur_dmp.service import FEED_KIND, service_for

    if delivery.kind == FEED_KIND:
        service_for(runtime).settled(delivery)


@hookimpl
def segur_outbox_senders(runtime: Runtime) -> dict[str, Any]:
    from segur_dmp.service import FEED_KIND, service_for

    return {FEED_KIND: service_for(runtime).send}


@hookimpl
def segur_sandboxes(runtime: Runtime) -> list[Any]:
    # Without the "sandbox" extra it is listed all the same: starting it says what to install.
    from segur_dmp.sandbox import DMPSandbox

    return [DMPSandbox(pki=runtime.test_pki(), db_path=runtime.data_dir / "dmp-sandbox.sqlite")]


@hookimpl
def segur_recipients(document: Any, patient: Any, runtime: Runtime) -> list[Recipient]:
    if runtime.shareable_ins(patient) is None:
        return []
    from segur_core.plugin import Recipient

    return [Recipient("dmp", "dmp", label="DMP (Mon Espace Santé)", default=True)]


@hookimpl
def segur_export_sections(
    patient_id: str | None, since: dt.datetime | None, runtime: Runtime
) -> list[ExportSection]:
    """Where each of the patient's documents stands with the DMP (portability export)."""
    if patient_id is None:
        return []
    from segur_dmp.export import dmp_section

    return [dmp_section(runtime, patient_id, since)]


@hookimpl
def segur_cli_commands(cli: Any) -> None:
    from segur_dmp.cli import dmp

    cli.add_command(dmp)


@hookimpl
def segur_demo_steps(runtime: Runtime) -> list[DemoStep]:
    from segur_core.plugin import DemoStep
    from segur_dmp.demo import run_demo_step
    from segur_dmp.i18n import _

    title = _("DMP: feed and list back")
    return [DemoStep(order=500, title=title, run=run_demo_step, plugin=NAME)]


@hookimpl
def segur_doctor_checks(runtime: Runtime) -> list[DoctorCheck]:
    from segur_core.i18n import N_
    from segur_core.plugin import DoctorCheck
    from segur_dmp.i18n import _

    def endpoint() -> tuple[DoctorResult, str]:
        config: DMPConfig = runtime.plugin_config(NAME)
        if config.endpoint == "sandbox":
            return DoctorResult.OK, _("DMP endpoint: the local sandbox")
        if not config.endpoint.startswith("https://"):
            return DoctorResult.ERROR, _("dmp.endpoint must be an https:// URL")
        if config.signing_cert is None:
            return DoctorResult.WARNING, _("dmp.signing_cert is not set (VIHF signing)")
        return DoctorResult.OK, _("DMP endpoint: {url}").format(url=config.endpoint)

    return [DoctorCheck(N_("dmp: configuration"), endpoint)]


@hookimpl
def segur_host_requirements(host: Host) -> list[str]:
    from segur_dmp.vihf import practitioner_problems

    return practitioner_problems(host.practitioner())
