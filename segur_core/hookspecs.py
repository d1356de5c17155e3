"""The hooks segur plugins implement.

Two kinds of hooks, and the runtime treats them differently:

* **Events** (``on_*``): something happened at the counter. Every enabled plugin is
  called; an exception raised by one implementation is contained by the runtime,
  recorded in the audit journal and the plugin's counters (``segur plugins``), and never
  stops the other plugins nor returns to the host. Return values are ignored.
* **Contributions and decisions** (``segur_*``): the core or another plugin asks
  something. Exceptions propagate to the caller, which decides what a failure means.

Hosts never call these hooks directly: they use the typed facade of
:class:`segur_core.runtime.Runtime` (``runtime.card_read(reading)``...).

Hooks only ever gain arguments; pluggy lets implementations accept a subset of them.
The hooks a *host* implements (patients, documents, decisions) are in
:mod:`segur_core.host.hookspecs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import datetime as dt

    import click

    from segur_core.host import Host
    from segur_core.model import (
        INS,
        CardReading,
        Delivery,
        HealthDocument,
        Identity,
        Origin,
        Patient,
        Prescription,
    )
    from segur_core.plugin import (
        DemoStep,
        DoctorCheck,
        ExportSection,
        PluginInfo,
        Recipient,
        Sandbox,
        Sender,
    )
    from segur_core.runtime import Runtime
    from segur_core.serve import ApiRoute, Warmup

PROJECT = "segur"

hookspec = pluggy.HookspecMarker(PROJECT)

#: Names of the event hooks, whose failures the runtime contains.
EVENT_HOOKS = frozenset(
    {
        "on_card_read",
        "on_patient_identified",
        "on_prescription_scanned",
        "on_document_validated",
        "on_document_received",
        "on_delivery_settled",
        "on_delivery_dead",
    }
)


# -- events --------------------------------------------------------------------------------


@hookspec
def on_card_read(reading: CardReading, runtime: Runtime) -> None:
    """A patient's identity was read: carte Vitale, appli carte Vitale or manual entry.

    Fires once per reading, after the pharmacist picked the beneficiary when the card
    holds several. ``segur-ins`` answers it by looking the identity up in INSi.

    :param reading: the beneficiary's traits and NIR as read, with their source.
    :param runtime: the runtime that dispatched the event.
    :return: ignored.

    .. versionadded:: 0.1
    """


@hookspec
def on_patient_identified(
    patient: Patient, identity: Identity, source: str, runtime: Runtime
) -> None:
    """A patient's identity was established or changed status, and saved by the host.

    Fires after an INSi qualification or verification, a document check by the
    pharmacist, or a manual change; ``patient`` is as the host saved it.

    :param patient: the patient, as saved.
    :param identity: the identity now in force (``patient.identity``).
    :param source: what established it (``insi``, ``document-check``, ``manual``...).
    :param runtime: the runtime that dispatched the event.
    :return: ignored.

    .. versionadded:: 0.1
    """


@hookspec
def on_prescription_scanned(
    prescription: Prescription, patient: Patient | None, runtime: Runtime
) -> None:
    """An ordonnance numérique was scanned and fetched from the e-prescription service.

    :param prescription: the prescription as fetched.
    :param patient: the matching patient when the host found one, else ``None``.
    :param runtime: the runtime that dispatched the event.
    :return: ignored.

    .. versionadded:: 0.1
    """


@hookspec
def on_document_validated(document: HealthDocument, patient: Patient, runtime: Runtime) -> None:
    """The pharmacist validated (legally authenticated) a health document.

    Fires once per validated version, after the document passed its checks and the host
    stored it. ``segur-dmp`` queues the DMP feed here, ``segur-mssante`` the messages.

    :param document: the validated document (``status`` is ``validated``).
    :param patient: its patient.
    :param runtime: the runtime that dispatched the event.
    :return: ignored.

    .. versionadded:: 0.1
    """


@hookspec
def on_document_received(document: HealthDocument, origin: Origin, runtime: Runtime) -> None:
    """A health document arrived from outside (MSSanté message, DMP retrieve...).

    :param document: the received document (``status`` is ``received``; ``check`` is the
        CDA test kit's verdict when the channel checked it — a document that fails the kit
        is delivered all the same, the pharmacist decides).
    :param origin: the channel and sender it came from.
    :param runtime: the runtime that dispatched the event.
    :return: ignored.

    .. versionadded:: 0.1
    """


@hookspec
def on_delivery_settled(delivery: Delivery, runtime: Runtime) -> None:
    """An outbox item reached a final state: delivered, or dead after its last attempt.

    Fires exactly once per item. Plugins update what they show the pharmacist (the DMP
    status of a document...).

    :param delivery: the settled item (``state`` is ``delivered`` or ``dead``).
    :param runtime: the runtime that dispatched the event.
    :return: ignored.

    .. versionadded:: 0.1
    """


@hookspec
def on_delivery_dead(delivery: Delivery, runtime: Runtime) -> None:
    """An outbox item is a dead letter: refused for good, or still failing when its retry
    horizon ran out. Nothing more will be attempted until an operator retries it
    (``segur outbox retry``).

    Fires after ``on_delivery_settled``, once per dead settlement (again after a retried
    item dies again). Plugins tell the pharmacist or the support desk; a dead letter is
    never silent.

    :param delivery: the dead item (``state`` is ``dead``, ``last_error`` says why).
    :param runtime: the runtime that dispatched the event.
    :return: ignored.

    .. versionadded:: 0.2
    """


# -- contributions -------------------------------------------------------------------------


@hookspec
def segur_plugin_info() -> PluginInfo:
    """Describe this plugin: name, version, capabilities, compatible core versions and
    the attrs class of its configuration table.

    Called once when the runtime loads the plugin, before anything else; a plugin whose
    ``requires_core`` specifier excludes this core is skipped and reported.

    :return: a :class:`segur_core.plugin.PluginInfo`.

    .. versionadded:: 0.1
    """


@hookspec
def segur_configure(config: Any, runtime: Runtime) -> None:
    """Receive this plugin's configuration, structured into its declared config class.

    Called once per plugin after all plugins are registered and before any event. A
    plugin that declared no config class receives ``None``. Raising
    :class:`~segur_core.errors.ConfigError` stops the runtime with that message.

    :param config: an instance of ``PluginInfo.config_class`` (or ``None``).
    :param runtime: the runtime being started.
    :return: ignored.

    .. versionadded:: 0.1
    """


@hookspec
def segur_cli_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``segur`` command line.

    Called once when the CLI starts, for every enabled plugin. Import heavy modules
    inside the commands, not here: ``segur plugins`` must stay fast.

    :param cli: the root ``segur`` group; call ``cli.add_command(...)``.
    :return: ignored.

    .. versionadded:: 0.1
    """


@hookspec
def segur_outbox_senders(runtime: Runtime) -> Mapping[str, Sender]:
    """Declare the delivery kinds this plugin sends through the outbox.

    Called when the outbox worker starts. Each sender receives a claimed item and
    either returns (delivered), raises
    :class:`~segur_core.errors.TransientDeliveryError` (retry later) or
    :class:`~segur_core.errors.PermanentDeliveryError` (dead letter).

    :return: a mapping of kind (``dmp.iti41``) to a :class:`segur_core.plugin.Sender`.

    .. versionadded:: 0.1
    """


@hookspec
def segur_sandboxes(runtime: Runtime) -> Sequence[Sandbox]:
    """Declare the local peers of national services this plugin can run.

    The demo and the tests start them on loopback and point the plugin at them.

    :return: :class:`segur_core.plugin.Sandbox` objects (not started).

    .. versionadded:: 0.1
    """


@hookspec
def segur_demo_steps(runtime: Runtime) -> Sequence[DemoStep]:
    """Contribute steps to the counter scenario of ``segur demo``.

    Steps of all plugins run in ``order``; each reports what it did on the timeline.

    :return: :class:`segur_core.plugin.DemoStep` objects.

    .. versionadded:: 0.1
    """


@hookspec
def segur_doctor_checks(runtime: Runtime) -> Sequence[DoctorCheck]:
    """Contribute checks to ``segur doctor`` (endpoint reachable, kit present...).

    :return: :class:`segur_core.plugin.DoctorCheck` objects.

    .. versionadded:: 0.1
    """


@hookspec
def segur_recipients(
    document: HealthDocument, patient: Patient, runtime: Runtime
) -> Sequence[Recipient]:
    """Propose recipients of a validated document (DMP, MSSanté addresses...).

    :return: :class:`segur_core.plugin.Recipient` objects; results of all plugins are
        concatenated.

    .. versionadded:: 0.1
    """


@hookspec
def segur_export_sections(
    patient_id: str | None,
    since: dt.datetime | None,
    runtime: Runtime,
    documents: Sequence[HealthDocument] | None,
) -> Sequence[ExportSection]:
    """Contribute sections to the portability export of the Ségur-perimeter data.

    Called once per exported patient, and once with ``None`` for the transverse part
    (what is about no single patient). Files are produced lazily, one section at a time.

    :param patient_id: the patient whose data to export, or ``None`` for the transverse
        part.
    :param since: only what is dated at or after this instant (everything when ``None``);
        versionadded 0.2.
    :param documents: the patient's documents the export has already read from the host
        (those dated at or after ``since``), for a section derived from them to use
        rather than list and read them again; ``None`` when the caller has not read them
        (the transverse part): list them then. Versionadded 0.2.
    :return: :class:`segur_core.plugin.ExportSection` objects.

    .. versionadded:: 0.1
    """


@hookspec
def segur_host_requirements(host: Host, runtime: Runtime) -> Sequence[str]:
    """Check that the host's answers hold what this plugin needs (the practitioner's
    specialty for the DMP, a structure phone a document can carry...), so that a host
    missing a field fails the conformance kit rather than every delivery later.

    :param host: the typed facade of the host to check (``runtime.host``).
    :return: problems, each naming the hook and the field (``host_practitioner:
        specialty ...``); empty when the host gives all this plugin needs.

    .. versionadded:: 0.2
    """


@hookspec
def segur_api_routes(runtime: Runtime) -> Sequence[ApiRoute]:
    """Add operations to the HTTP/JSON API of ``segur serve`` (below ``/v1``).

    Called once when the service's application is made, for every enabled plugin. The
    routes' schemas go into the OpenAPI document as declared; paths start with the
    plugin's name. Two plugins declaring the same method and path, or the same operation
    id, stop the service with a :class:`~segur_core.errors.PluginError`.

    :return: :class:`segur_core.serve.ApiRoute` values; handlers take an
        :class:`segur_core.serve.ApiCall` and run in a worker thread.

    .. versionadded:: 0.2
    """


@hookspec
def segur_api_warmups(runtime: Runtime) -> Sequence[Warmup]:
    """Declare what ``segur serve`` prepares before it reports ready (compiled
    schematrons kept in a worker process...).

    Called once when the service starts (unless ``[segur.serve] warm = false``); each
    warm-up's ``start()`` runs in its own background thread and ``/v1/ready`` answers 503
    until all have returned. One that raises is reported in ``/v1/ready`` and the service
    never becomes ready.

    :return: :class:`segur_core.serve.Warmup` values.

    .. versionadded:: 0.2
    """


# -- decisions (one plugin answers; the caller handles failures) ---------------------------


@hookspec(firstresult=True)
def segur_shareable_ins(patient: Patient, runtime: Runtime) -> INS | None:
    """The patient's INS if it may be shared (in a document, with the DMP), else ``None``.

    Only a qualified (``QUAL``) identity exposes its INS. Answered by ``segur-ins``;
    other plugins ask this hook and never decide it themselves.

    :return: the INS to use, or ``None`` when it must not be shared.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def segur_ins_oid(runtime: Runtime) -> str | None:
    """The INS OID to write for NIR-based identities in this environment.

    ``1.2.250.1.213.1.4.8`` in production, ``.10``/``.11`` for test and demo NIRs.

    :return: an OID string, or ``None`` when no identity plugin is enabled.

    .. versionadded:: 0.1
    """
