"""Hook implementations of segur-mssante (entry point ``mss`` in group ``segur``).

Imported by ``segur plugins``: the config class is a lazy reference and everything heavy
(lxml, smtplib/imaplib sessions, the Dovecot sandbox) is imported inside the hooks that
need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segur_core import hookimpl
from segur_core.plugin import DoctorResult, PluginInfo, distribution_version

if TYPE_CHECKING:
    import datetime as dt

    from segur_core.plugin import ExportSection
    from segur_core.runtime import Runtime

NAME = "mss"


@hookimpl
def segur_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        version=distribution_version("segur-mssante"),
        summary="MSSanté: IHE XDM archives sent and received over SMTP/IMAP, directory",
        capabilities=("mssante", "mssante.xdm"),
        requires_core=">=0.1,<1",
        config_class="segur_mssante.config:MSSConfig",
    )


@hookimpl
def segur_export_sections(
    patient_id: str | None, since: dt.datetime | None, runtime: Runtime
) -> list[ExportSection]:
    """The MSSanté messages sent about the patient with their outcome per recipient, and
    those received for them (portability export)."""
    if patient_id is None:
        return []
    from segur_mssante.export import mss_sections

    return mss_sections(runtime, patient_id, since)


@hookimpl
def segur_cli_commands(cli: Any) -> None:
    from segur_mssante.cli import mss

    cli.add_command(mss)


@hookimpl
def segur_outbox_senders(runtime: Runtime) -> dict[str, Any]:
    from segur_mssante.service import SEND_KIND, service_for

    return {SEND_KIND: service_for(runtime).deliver}


@hookimpl
def segur_sandboxes(runtime: Runtime) -> list[Any]:
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:  # the "sandbox" extra is not installed
        return []
    from segur_mssante.sandbox.dovecot import MailSandbox, dovecot_missing

    if dovecot_missing() is not None:
        return []
    return [MailSandbox(pki=runtime.test_pki())]


@hookimpl
def segur_demo_steps(runtime: Runtime) -> list[Any]:
    from segur_core.plugin import DemoStep
    from segur_mssante.demo import run_demo_step
    from segur_mssante.i18n import _

    title = _("MSSanté: send, acknowledge")
    return [DemoStep(order=600, title=title, run=run_demo_step, plugin=NAME)]


@hookimpl
def segur_doctor_checks(runtime: Runtime) -> list[Any]:
    from segur_core.i18n import N_
    from segur_core.plugin import DoctorCheck
    from segur_mssante.i18n import _

    def configuration() -> tuple[DoctorResult, str]:
        config = runtime.plugin_config(NAME)
        if config.server == "sandbox":
            from segur_mssante.sandbox.dovecot import dovecot_missing

            missing = dovecot_missing()
            if missing:
                return DoctorResult.WARNING, _("MSSanté sandbox unavailable: {reason}").format(
                    reason=missing
                )
            return DoctorResult.OK, _("MSSanté server: the local Dovecot sandbox")
        if config.nil == "SEGUR-SANDBOX":
            return DoctorResult.WARNING, _("mss.nil is not set (the declared software reference)")
        return DoctorResult.OK, _("MSSanté server: {server} ({mailbox})").format(
            server=config.server, mailbox=config.mailbox_type
        )

    return [DoctorCheck(N_("mss: configuration"), configuration)]
