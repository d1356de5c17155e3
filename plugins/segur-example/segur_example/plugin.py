"""Hook implementations of segur-example (entry point ``example`` in group ``segur``).

This module is imported by ``segur plugins``: it imports only ``segur_core.hookimpl``,
``PluginInfo`` and light modules of its own. The config class is given as a lazy
``"module:Class"`` reference, and attrs-based types (``DemoStep``, ``DoctorCheck``) and
click are imported inside the hooks that use them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from segur_core import hookimpl
from segur_core.plugin import DoctorResult, PluginInfo, distribution_version
from segur_example.counting import ACTION, EventCounter, counts_from_journal
from segur_example.receipts import KIND, ReceiptSender, receipt_key, receipt_payload

if TYPE_CHECKING:
    from segur_core.plugin import DemoContext, DemoStep, DoctorCheck
    from segur_core.runtime import Runtime
    from segur_example.config import ExampleConfig

NAME = "example"


def counter(runtime: Runtime) -> EventCounter:
    """The event counter of ``runtime``: one per runtime (a process, tests or a host, may
    run several), a service of the runtime rather than a module global."""
    return runtime.service(NAME, EventCounter)


def _seen(runtime: Runtime, event: str, *, patient_id: str | None = None, **details: Any) -> None:
    config: ExampleConfig = runtime.plugin_config(NAME)
    if event not in config.events:
        return
    counter(runtime).add(event)
    if config.journal:
        # The patient goes in patient_id (the journal pseudonymises it in its logs),
        # never in details or in a log message.
        runtime.journal.record(
            ACTION,
            actor=f"plugin:{NAME}",
            patient_id=patient_id,
            details={"event": event, **details},
        )


# -- description and configuration ---------------------------------------------------------


@hookimpl
def segur_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        version=distribution_version("segur-example"),
        summary="Counts and journals counter events (the worked example)",
        capabilities=("example",),
        requires_core=">=0.1,<1",
        config_class="segur_example.config:ExampleConfig",
    )


@hookimpl
def segur_configure(config: ExampleConfig, runtime: Runtime) -> None:
    counter(runtime)  # start counting from zero for this runtime


# -- events --------------------------------------------------------------------------------


@hookimpl
def on_card_read(reading: Any, runtime: Runtime) -> None:
    _seen(runtime, "card_read", source=str(reading.source))


@hookimpl
def on_patient_identified(patient: Any, identity: Any, source: str, runtime: Runtime) -> None:
    _seen(
        runtime,
        "patient_identified",
        patient_id=patient.id,
        status=str(identity.status),
        source=source,
    )


@hookimpl
def on_prescription_scanned(prescription: Any, patient: Any, runtime: Runtime) -> None:
    _seen(
        runtime,
        "prescription_scanned",
        patient_id=patient.id if patient else None,
        items=len(prescription.items),
    )


@hookimpl
def on_document_validated(document: Any, patient: Any, runtime: Runtime) -> None:
    _seen(runtime, "document_validated", patient_id=patient.id, type_code=document.type_code)
    if runtime.plugin_config(NAME).receipts:
        # queue, do not deliver here: events run on the pharmacist's screen thread
        runtime.outbox.enqueue(
            KIND, receipt_key(document), receipt_payload(document), patient_id=patient.id
        )


@hookimpl
def on_document_received(document: Any, origin: Any, runtime: Runtime) -> None:
    _seen(
        runtime, "document_received", patient_id=document.patient_id or None, channel=origin.channel
    )


@hookimpl
def on_delivery_settled(delivery: Any, runtime: Runtime) -> None:
    _seen(
        runtime,
        "delivery_settled",
        patient_id=delivery.patient_id,
        kind=delivery.kind,
        state=str(delivery.state),
    )


# -- contributions -------------------------------------------------------------------------


def receipts_dir(runtime: Runtime) -> Any:
    """Where receipts are delivered: ``[example] receipts_dir`` or the data directory."""
    configured = runtime.plugin_config(NAME).receipts_dir
    return configured if configured is not None else runtime.data_dir / "example-receipts"


@hookimpl
def segur_outbox_senders(runtime: Runtime) -> dict[str, Any]:
    return {KIND: ReceiptSender(receipts_dir(runtime))}


@hookimpl
def segur_cli_commands(cli: Any) -> None:
    import click

    @cli.group(NAME)
    def example() -> None:
        """The worked example plugin."""

    from segur_core.cli.output import emit_json, json_option
    from segur_example.i18n import _

    @example.command("stats")
    @json_option
    def stats(as_json: bool) -> None:
        """Events counted by segur-example on this installation (from the journal)."""
        from segur_core.cli import get_runtime

        counts = counts_from_journal(get_runtime().journal)
        if as_json:
            emit_json({"events": counts, "total": sum(counts.values())})
            return
        if not counts:
            click.echo(_("no event counted yet"))
        for event, n in counts.items():
            click.echo(f"{event:<22} {n:>6}")


def _demo_step(context: DemoContext) -> None:
    from segur_example.i18n import _

    runtime = context.runtime
    seen = counter(runtime).snapshot()
    summary = ", ".join(f"{n} {event}" for event, n in seen.items()) or _("no event")
    context.record(
        NAME, _("events seen during the demo: {events}").format(events=summary), counts=seen
    )
    receipts = sorted(p.name for p in receipts_dir(runtime).glob("*.json"))
    if receipts:
        context.record(NAME, _("{n} receipts delivered through the outbox").format(n=len(receipts)))
    context.artefact("example/event-counts.json", json.dumps(seen, indent=2) + "\n")


@hookimpl
def segur_demo_steps(runtime: Runtime) -> list[DemoStep]:
    from segur_core.plugin import DemoStep
    from segur_example.i18n import _

    return [DemoStep(order=950, title=_("Example: events seen by a plugin"), run=_demo_step)]


@hookimpl
def segur_doctor_checks(runtime: Runtime) -> list[DoctorCheck]:
    from segur_core.i18n import N_
    from segur_core.plugin import DoctorCheck
    from segur_example.i18n import _, ngettext

    def check() -> tuple[DoctorResult, str]:
        config: ExampleConfig = runtime.plugin_config(NAME)
        if not config.events:
            return DoctorResult.WARNING, _("no event is counted ([example] events is empty)")
        n = len(config.events)
        return DoctorResult.OK, ngettext(
            "counting {n} kind of event", "counting {n} kinds of events", n
        ).format(n=n)

    return [DoctorCheck(N_("example events"), check)]
