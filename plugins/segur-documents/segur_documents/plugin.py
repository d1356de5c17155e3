"""The segur-documents plugin: hook implementations (entry point ``documents``).

Imported by ``segur plugins``: the config class is a lazy reference and everything else
is imported inside the hooks that need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core import hookimpl

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    import click

    from segur_core.host import Host
    from segur_core.model import HealthDocument
    from segur_core.plugin import DemoStep, DoctorCheck, ExportSection, PluginInfo
    from segur_core.runtime import Runtime

NAME = "documents"


@hookimpl
def segur_api_routes(runtime: Runtime) -> list[Any]:
    from segur_documents.api import routes

    return routes()


@hookimpl
def segur_api_warmups(runtime: Runtime) -> list[Any]:
    from segur_documents.api import warmups

    return warmups(runtime)


@hookimpl
def segur_plugin_info() -> PluginInfo:
    from segur_core.plugin import PluginInfo
    from segur_documents import __version__

    return PluginInfo(
        name=NAME,
        version=__version__,
        summary="CI-SIS CDA R2 documents: note de vaccination, entretien pharmaceutique, "
        "bilan partagé de médication; XSD and official schematron checks; reading CDA",
        capabilities=("cda.build", "cda.validate", "cda.read"),
        requires_core=">=0.1",
        config_class="segur_documents.config:DocumentsConfig",
    )


@hookimpl
def segur_cli_commands(cli: click.Group) -> None:
    from segur_documents.cli import cda

    cli.add_command(cda)


@hookimpl
def segur_doctor_checks(runtime: Runtime) -> list[DoctorCheck]:
    from segur_core.i18n import N_
    from segur_core.plugin import DoctorCheck, DoctorResult
    from segur_documents.i18n import _

    def kit() -> tuple[DoctorResult, str]:
        from segur_documents.checks.kit import find_kit

        config = runtime.plugin_config(NAME)
        try:
            path = find_kit(config.kit_path)
        except Exception as exc:
            return DoctorResult.ERROR, str(exc)
        if path is None:
            return (
                DoctorResult.WARNING,
                _(
                    "CI-SIS test kit not found: only the plugin's structural checks run "
                    "(set documents.kit_path or SEGUR_CISIS_KIT, or install a data package)"
                ),
            )
        return DoctorResult.OK, _("CI-SIS test kit at {path}").format(path=path)

    def saxon() -> tuple[DoctorResult, str]:
        from segur_documents.checks.schematron import saxon_available

        if saxon_available():
            return DoctorResult.OK, _("saxonche importable: official schematrons can run")
        return DoctorResult.WARNING, _("saxonche not installed: official schematrons are skipped")

    def renderings() -> tuple[DoctorResult, str]:
        from segur_documents.display import find_stylesheet

        stylesheet = find_stylesheet(runtime.plugin_config(NAME).kit_path)
        if stylesheet is None:
            return DoctorResult.WARNING, _(
                "no display stylesheet: structured documents get no PDF rendering (set "
                "SEGUR_CISIS_STYLESHEETS to the kit's FeuilleDeStyle folder)"
            )
        try:
            import weasyprint  # noqa: F401  (loads Pango)
        except OSError as exc:
            return DoctorResult.ERROR, _(
                "WeasyPrint cannot load its system libraries (install Pango): {error}"
            ).format(error=exc)
        return DoctorResult.OK, _("PDF renderings with {path}").format(path=stylesheet)

    return [
        DoctorCheck(N_("documents: CI-SIS kit"), kit),
        DoctorCheck(N_("documents: saxonche"), saxon),
        DoctorCheck(N_("documents: PDF renderings"), renderings),
    ]


@hookimpl
def segur_demo_steps(runtime: Runtime) -> list[DemoStep]:
    from segur_core.plugin import DemoStep
    from segur_documents.demo import run_demo_step
    from segur_documents.i18n import _

    return [
        DemoStep(
            order=400,
            title=_("Documents: vaccination note, pharmaceutical interview, medication review"),
            run=run_demo_step,
            plugin=NAME,
        )
    ]


@hookimpl
def segur_host_requirements(host: Host) -> list[str]:
    from segur_documents.builders import host_problems

    return host_problems(host.structure(), host.practitioner())


@hookimpl
def segur_export_sections(
    patient_id: str | None,
    since: dt.datetime | None,
    runtime: Runtime,
    documents: Sequence[HealthDocument] | None,
) -> list[ExportSection]:
    """The patient's vaccinations, read from their notes de vaccination (portability):
    among the ``documents`` the export has read, else listed from the host."""
    if patient_id is None:
        return []
    from segur_documents.export import vaccination_section

    return [vaccination_section(runtime, patient_id, since, documents)]
