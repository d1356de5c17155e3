"""Hook implementations of segur-dp (entry point ``dp`` in group ``segur``).

Imported by ``segur plugins``: the config class is a lazy reference and everything heavy
(httpx, the sandbox) is imported inside the hooks that need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core import hookimpl
from segur_core.plugin import DoctorResult, PluginInfo, distribution_version

if TYPE_CHECKING:
    import datetime as dt

    from segur_core.host import Host
    from segur_core.plugin import DemoStep, DoctorCheck, ExportSection

NAME = "dp"


@hookimpl
def segur_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        version=distribution_version("segur-dp"),
        summary="Dossier Pharmaceutique: history by category, dispensations, alerts and recalls",
        capabilities=("dp", "dp.history", "dp.alerts"),
        requires_core=">=0.1,<1",
        config_class="segur_dp.config:DPConfig",
    )


@hookimpl
def segur_outbox_senders(runtime: Any) -> dict[str, Any]:
    from segur_dp.service import RECORD_KIND, service_for

    return {RECORD_KIND: lambda item: service_for(runtime).send(item)}


@hookimpl
def segur_sandboxes(runtime: Any) -> list[Any]:
    # Without the "sandbox" extra it is listed all the same: starting it says what to install.
    from segur_dp.sandbox import DPSandbox

    return [DPSandbox(pki=runtime.test_pki(), db_path=runtime.data_dir / "dp-sandbox.sqlite")]


@hookimpl
def segur_cli_commands(cli: Any) -> None:
    from segur_dp.cli import dp

    cli.add_command(dp)


@hookimpl
def segur_demo_steps(runtime: Any) -> list[DemoStep]:
    from segur_core.plugin import DemoStep
    from segur_dp.demo import run_demo_step
    from segur_dp.i18n import _

    title = _("DP: dispensation, history, alert")
    return [DemoStep(order=750, title=title, run=run_demo_step, plugin=NAME)]


@hookimpl
def segur_doctor_checks(runtime: Any) -> list[DoctorCheck]:
    from segur_core.i18n import N_
    from segur_core.plugin import DoctorCheck
    from segur_dp.i18n import _

    def endpoint() -> tuple[DoctorResult, str]:
        config = runtime.plugin_config(NAME)
        if config.endpoint == "sandbox":
            return DoctorResult.OK, _("DP endpoint: the local sandbox")
        if not config.endpoint.startswith("https://"):
            return DoctorResult.ERROR, _("dp.endpoint must be an https:// URL")
        return DoctorResult.OK, _("DP endpoint: {url}").format(url=config.endpoint)

    return [DoctorCheck(N_("dp: configuration"), endpoint)]


@hookimpl
def segur_host_requirements(host: Host) -> list[str]:
    from segur_dp.service import host_problems

    return host_problems(host)


@hookimpl
def segur_export_sections(
    patient_id: str | None, since: dt.datetime | None, runtime: Any
) -> list[ExportSection]:
    """The patient's DP consultations and the dispensations written into their DP, from
    the journal (portability export)."""
    if patient_id is None:
        return []
    from segur_dp.export import dp_sections

    return dp_sections(runtime, patient_id, since)
