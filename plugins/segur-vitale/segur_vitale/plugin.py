"""The segur-vitale plugin: hook implementations (entry point ``segur`` → ``vitale``).

Imported by ``segur plugins``: the config class is a lazy reference and attrs-based types
and the PC/SC stack are imported inside the hooks that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core import hookimpl
from segur_core.plugin import DoctorResult, PluginInfo
from segur_vitale import __version__

if TYPE_CHECKING:
    import click

    from segur_core.plugin import DoctorCheck
    from segur_core.runtime import Runtime

NAME = "vitale"


@hookimpl
def segur_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        version=__version__,
        summary="carte Vitale (PC/SC), appli carte Vitale, CPS detection, manual entry",
        capabilities=("vitale-card", "apcv", "cps-detection", "manual-entry"),
        requires_core=">=0.1",
        config_class="segur_vitale.config:VitaleConfig",
    )


@hookimpl
def segur_cli_commands(cli: click.Group) -> None:
    from segur_vitale.cli import vitale

    cli.add_command(vitale)


@hookimpl
def segur_sandboxes(runtime: Runtime) -> list[Any]:
    from segur_vitale.apcv.sandbox import ApcvSandbox

    return [ApcvSandbox(pki=runtime.test_pki())]


@hookimpl
def segur_api_routes(runtime: Runtime) -> list[Any]:
    from segur_vitale.api import routes

    return routes()


@hookimpl
def on_patient_identified(patient: Any, runtime: Runtime) -> None:
    from segur_vitale.api import identified

    identified(patient)


@hookimpl
def segur_demo_steps(runtime: Runtime) -> list[Any]:
    from segur_vitale.demo import demo_step

    return [demo_step()]


def _check_pcscd() -> tuple[DoctorResult, str]:
    from segur_vitale import pcsc
    from segur_vitale.i18n import _

    if not pcsc.pyscard_installed():
        return DoctorResult.SKIPPED, _("pyscard not installed (pip install 'segur-vitale[pcsc]')")
    if not pcsc.pcsc_available():
        return DoctorResult.WARNING, _("pcscd not reachable: start the PC/SC daemon")
    return DoctorResult.OK, _("pcscd reachable")


def _check_readers(reader_filter: str | None) -> tuple[DoctorResult, str]:
    from segur_vitale import pcsc
    from segur_vitale.errors import ReaderError
    from segur_vitale.i18n import _, ngettext

    if not pcsc.pyscard_installed():
        return DoctorResult.SKIPPED, _("pyscard not installed")
    try:
        names = pcsc.list_readers(reader_filter)
    except ReaderError as error:
        return DoctorResult.SKIPPED, str(error)
    if not names:
        if reader_filter:
            return DoctorResult.WARNING, _("no card reader connected matching {name!r}").format(
                name=reader_filter
            )
        return DoctorResult.WARNING, _("no card reader connected")
    return DoctorResult.OK, ngettext(
        "{n} reader: {names}", "{n} readers: {names}", len(names)
    ).format(n=len(names), names=", ".join(names))


@hookimpl
def segur_doctor_checks(runtime: Runtime) -> list[DoctorCheck]:
    from segur_core.i18n import N_
    from segur_core.plugin import DoctorCheck
    from segur_vitale.config import VitaleConfig

    config = runtime.plugin_config(NAME) or VitaleConfig()
    return [
        DoctorCheck("pcscd", _check_pcscd),
        DoctorCheck(N_("card readers"), lambda: _check_readers(config.reader)),
    ]
