"""Hook implementations of segur-ins (entry point ``ins`` in group ``segur``).

Imported by ``segur plugins``: only ``segur_core.hookimpl`` and ``PluginInfo`` (which
need no attrs) are imported here; the config class is a lazy reference and everything
else (attrs, httpx, lxml, signxml, starlette) is imported inside the hooks that need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core import hookimpl
from segur_core.plugin import PluginInfo, distribution_version
from segur_ins.service import NAME, service

if TYPE_CHECKING:
    import datetime as dt

    from segur_core.plugin import DemoStep, ExportSection
    from segur_core.runtime import Runtime
    from segur_ins.config import InsConfig


@hookimpl
def segur_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        version=distribution_version("segur-ins"),
        summary="INS: NIR/NIA, RNIV traits and statuses, INSi qualification and verification",
        capabilities=("ins", "insi", "ins-datamatrix"),
        requires_core=">=0.1,<1",
        config_class="segur_ins.config:InsConfig",
    )


@hookimpl
def segur_configure(config: InsConfig, runtime: Runtime) -> None:
    service(runtime)  # ready before the first event; it connects on first use


# -- events --------------------------------------------------------------------------------


@hookimpl
def on_card_read(reading: Any, runtime: Runtime) -> None:
    service(runtime).identify(reading)


# -- decisions -----------------------------------------------------------------------------


@hookimpl
def segur_shareable_ins(patient: Any, runtime: Runtime) -> Any:
    from segur_ins.status import shareable_ins

    return shareable_ins(patient.identity)


@hookimpl
def segur_ins_oid(runtime: Runtime) -> str | None:
    from segur_ins.oids import oid_for_environment

    return oid_for_environment(runtime.config.mode)


# -- contributions -------------------------------------------------------------------------


@hookimpl
def segur_sandboxes(runtime: Runtime) -> list[Any]:
    from segur_ins.sandbox import InsiSandbox

    return [InsiSandbox(pki=runtime.test_pki())]


@hookimpl
def segur_api_routes(runtime: Runtime) -> list[Any]:
    from segur_ins.api import routes

    return routes()


@hookimpl
def segur_cli_commands(cli: Any) -> None:
    from segur_ins.cli import ins

    cli.add_command(ins)


@hookimpl
def segur_export_sections(
    patient_id: str | None, since: dt.datetime | None, runtime: Runtime
) -> list[ExportSection]:
    """The patient's identity history, identity-document checks and INSi calls, from the
    journal (portability export)."""
    if patient_id is None:
        return []
    from segur_ins.export import ins_sections

    return ins_sections(runtime, patient_id, since)


@hookimpl
def segur_doctor_checks(runtime: Runtime) -> list[Any]:
    from segur_ins.doctor import doctor_checks

    return doctor_checks(runtime)


@hookimpl
def segur_demo_steps(runtime: Runtime) -> list[DemoStep]:
    from segur_ins.demo import demo_steps

    return demo_steps()
