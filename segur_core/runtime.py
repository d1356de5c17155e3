"""The runtime a host creates: plugins loaded, host registered, a typed facade.

::

    from segur_core.runtime import create_runtime

    with create_runtime(load_config(), host=MyLGOHost()) as runtime:
        runtime.card_read(reading)            # an event: every plugin is called
        ins = runtime.shareable_ins(patient)  # a decision: one plugin answers
        runtime.host.get_patient("42")        # the host contract, typed

Events (``runtime.card_read``...) never raise because of a plugin: a failing
implementation is contained, logged without patient data, written to the journal
(``plugin.failure``) and counted (``segur plugins``). The exception is a
:class:`~segur_core.errors.DurabilityError` (the disk is full, the outbox cannot be
written): the other plugins still run, then the event raises it, so that the host knows
the work is not on its way. Decisions and contributions propagate exceptions to the caller.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from segur_core import hookspecs
from segur_core._isolation import (
    HealthStore,
    PluginStats,
    call_impl,
    describe_failure,
    failing_impl,
    trace,
)
from segur_core._loader import PluginRecord, load_plugins, new_plugin_manager
from segur_core.config import Config, load_config, structure_table
from segur_core.config_names import (
    check_disabled_tables,
    check_plugin_names,
    check_table_keys,
)
from segur_core.errors import (
    ConfigError,
    DurabilityError,
    PluginError,
    PluginLoadError,
    RuntimeClosedError,
)
from segur_core.host import (
    DEFAULT_HOST_FACTORY,
    Host,
    call_host_factory,
    host_setting,
    load_host_factory,
    make_host,
)

if TYPE_CHECKING:
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
    from segur_core.plugin import DemoStep, DoctorCheck, ExportSection, Recipient, Sandbox, Sender

__all__ = ["TRACE_ENV", "Host", "Runtime", "create_runtime"]

log = logging.getLogger("segur.runtime")

TRACE_ENV = "SEGUR_TRACE"
HOST_PLUGIN_NAME = "host"

S = TypeVar("S")
_NONE = object()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


class Runtime:
    """Plugins, host and services of one segur instance. Create it with
    :func:`create_runtime`; close it (or use it as a context manager) when done."""

    def __init__(
        self,
        config: Config,
        *,
        data_dir: Path,
        strict: bool = False,
        trace: bool = False,
    ) -> None:
        self.config = config
        self.strict = strict
        self.data_dir = data_dir
        self.trace = trace
        self.pm = new_plugin_manager()
        #: The raw pluggy hook relay, for plugins calling contribution hooks.
        self.hook = self.pm.hook
        self.host = Host(self.pm.hook)
        #: Every plugin known to the runtime, by name (loaded, disabled or in error).
        self.plugins: dict[str, PluginRecord] = {}
        self._configs: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._health = HealthStore(data_dir / "runtime.sqlite")
        self._journal: Any = None
        #: Who acts through this runtime (``cli:<login>`` for ``segur``): named by the
        #: journal records that name nobody else (:mod:`segur_core.journal.acting`).
        self.actor: str | None = None
        self._outbox: Any = None
        self._owned_host: Any = None
        #: The object implementing the host contract (``None`` when there is none).
        self.host_object: Any = None
        self._sandbox_list: list[Sandbox] | None = None
        self._sandboxes: dict[str, Sandbox] = {}
        #: Record what each sandbox receives and answers (``segur demo --out``); read
        #: with :meth:`sandbox_transcripts`. Takes effect for sandboxes started later.
        self.record_sandbox_exchanges = False
        self._pki: Any = None
        self._closing = self._closed = False
        self._on_close: list[Callable[[], object]] = []
        self._services: dict[str, Any] = {}
        #: Dispatches per event hook (plugins' call counters derive from it).
        self._counts: dict[str, int] = dict.fromkeys(hookspecs.EVENT_HOOKS, 0)
        hook = self.pm.hook
        self._on_card_read = hook.on_card_read
        self._on_patient_identified = hook.on_patient_identified
        self._on_prescription_scanned = hook.on_prescription_scanned
        self._on_document_validated = hook.on_document_validated
        self._on_document_received = hook.on_document_received
        self._on_delivery_settled = hook.on_delivery_settled
        self._on_delivery_dead = hook.on_delivery_dead

    # -- start-up ---------------------------------------------------------------------

    def _start(
        self, host: object | str | None, extra_plugins: Iterable[object], autoload: bool | None
    ) -> None:
        self.plugins = load_plugins(
            self.pm,
            enabled=self.config.plugins,
            strict=self.strict,
            extra_plugins=extra_plugins,
            autoload=autoload,
            on_registered=self._instrument_plugin,
        )
        if host is None or isinstance(host, str):
            host = self._configured_host(host)
            self._owned_host = host
        if host is not None:
            self.host_object = host
            self.pm.register(host, name=HOST_PLUGIN_NAME)
            if self.trace:
                self._instrument(host, HOST_PLUGIN_NAME)
        self.pm.check_pending()
        self._configure()

    def _configured_host(self, explicit: str | None) -> object | None:
        """The host made by the factory the configuration names
        (:func:`~segur_core.host.host_setting`): a named factory that fails is a
        :class:`ConfigError` naming its key; the default one, when not installed, leaves
        the runtime without a host."""
        reference, key = host_setting(self.config.settings.host, explicit, DEFAULT_HOST_FACTORY)
        if key is not None:
            return make_host(reference, self.data_dir, key=key, config=self.config)
        try:
            factory = load_host_factory(reference)
        except ConfigError as exc:
            log.warning("default host unavailable (%s); running without a host", exc)
            return None
        return call_host_factory(factory, self.data_dir, self.config)

    def _instrument_plugin(self, record: PluginRecord) -> None:
        record.stats.bind(self._counts, (h for h in record.hooks if h in hookspecs.EVENT_HOOKS))
        if self.trace:
            self._instrument(record.plugin, record.name)

    def _instrument(self, plugin: object, name: str) -> None:
        """Wrap this plugin's hook implementations with timing wrappers (tracing)."""
        for caller in self.pm.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin or impl.wrapper or impl.hookwrapper:
                    continue
                impl.function = trace(impl.function, name, caller.name)  # type: ignore[misc]

    def _configure(self) -> None:
        for record in list(self.loaded_plugins()):
            info = record.info
            try:  # a "module:Class" reference is imported here, not when plugins load
                cls = info.config_class if info is not None else None
            except PluginLoadError as exc:
                if self.strict:
                    raise
                log.error("plugin %r disabled: %s", record.name, exc)
                self.pm.unregister(record.plugin)
                record.status, record.error, record.plugin = "error", str(exc), None
                continue
            if cls is not None:
                check_table_keys(self.config.table(record.name), cls, record.name)
            config = structure_table(self.config, record.name, cls) if cls is not None else None
            self._configs[record.name] = config
        installed = [n for n, r in self.plugins.items() if r.entry_point is not None]
        check_disabled_tables(self.config, self.plugins)
        for table in check_plugin_names(self.config, installed):
            if table not in self.plugins:
                log.warning("segur.toml has a [%s] table but no such plugin is installed", table)
        if self.config.mode == "production":
            from segur_core.production import ProductionError, production_problems

            problems = [p for n, c in self._configs.items() for p in production_problems(n, c)]
            if problems:
                raise ProductionError(problems)
        for record in list(self.loaded_plugins()):
            plugin = record.plugin
            if self.pm.parse_hookimpl_opts(plugin, "segur_configure") is None:
                continue
            impl = next(
                i for i in self.pm.hook.segur_configure.get_hookimpls() if i.plugin is plugin
            )
            kwargs = {"config": self._configs[record.name], "runtime": self}
            try:
                impl.function(*(kwargs[a] for a in impl.argnames))
            except ConfigError:
                raise
            except Exception as exc:
                message = f"segur_configure failed: {describe_failure(exc)}"
                if self.strict:
                    raise PluginLoadError(message, plugin=record.name) from exc
                log.error("plugin %r disabled: %s", record.name, message)
                self.pm.unregister(plugin)
                record.status, record.error, record.plugin = "error", message, None

    # -- plugins ----------------------------------------------------------------------

    def loaded_plugins(self) -> list[PluginRecord]:
        """Records of the plugins that are registered, in load order."""
        return [r for r in self.plugins.values() if r.loaded]

    def plugin_config(self, name: str) -> Any:
        """The plugin's config instance (its ``[name]`` table, defaults when absent)."""
        try:
            return self._configs[name]
        except KeyError:
            raise PluginError("not loaded, so it has no configuration", plugin=name) from None

    def plugin_health(self) -> dict[str, dict[str, Any]]:
        """Counters of every plugin: persisted ones plus those of this process."""
        self._flush_health()
        return self._health.read()

    def _contain(self, hook: str, caller: Any, kwargs: dict[str, Any], exc: Exception) -> None:
        """An event implementation raised: record it, then run, one by one and each
        contained, the implementations pluggy had not reached. A durability failure is
        not the plugin's: it is raised once the others ran."""
        impl = failing_impl(exc)
        if impl is None:
            raise exc  # not raised by a plugin: a bug in the caller, let it show
        impls = list(reversed(caller.get_hookimpls()))  # pluggy's call order
        if impl not in impls:
            raise exc
        lost = self._durability(impl, hook, exc)
        for later in impls[impls.index(impl) + 1 :]:
            if later.wrapper or later.hookwrapper:
                continue
            try:
                call_impl(later, kwargs)
            except Exception as later_exc:
                lost = lost or self._durability(later, hook, later_exc)
        if lost is not None:
            raise lost

    def _durability(self, impl: Any, hook: str, exc: Exception) -> DurabilityError | None:
        """``exc`` when it is a durability failure (logged), else ``None`` (contained)."""
        if isinstance(exc, DurabilityError):
            log.error("plugin %r in %s: %s", impl.plugin_name, hook, describe_failure(exc))
            return exc
        self._on_failure(impl, hook, exc)
        return None

    def _on_failure(self, impl: Any, hook: str, exc: BaseException) -> None:
        record = self.plugins.get(impl.plugin_name)
        stats = record.stats if record is not None else PluginStats(impl.plugin_name)
        description = describe_failure(exc)
        with self._lock:
            stats.failures += 1
            stats.last_error = description
            stats.last_hook = hook
            stats.last_failure_at = dt.datetime.now(dt.UTC).timestamp()
        log.error("plugin %r failed in %s (contained): %s", stats.plugin, hook, description)
        try:
            self.journal.record(
                "plugin.failure",
                outcome="error",
                actor=f"plugin:{stats.plugin}",
                details={"plugin": stats.plugin, "hook": hook, "error": description},
            )
        except Exception as journal_exc:
            log.error("cannot journal a plugin failure: %s", describe_failure(journal_exc))
        self._health.flush([(stats.plugin, stats)])

    def _flush_health(self) -> None:
        self._health.flush((r.name, r.stats) for r in self.plugins.values())

    # -- services ---------------------------------------------------------------------

    @property
    def journal(self) -> Any:
        """The audit journal (:class:`segur_core.journal.Journal`), opened on first use."""
        if self._journal is None:
            with self._lock:
                if self._journal is None:
                    from segur_core.journal import open_journal
                    from segur_core.journal.acting import acting

                    settings = self.config.settings
                    opened = open_journal(
                        self.data_dir,
                        settings.journal,
                        store=settings.store_url,
                        tenant=settings.tenant,
                    )
                    self._journal = acting(opened, self.actor)
        return self._journal

    @property
    def outbox(self) -> Any:
        """The delivery outbox (:class:`segur_core.outbox.Outbox`), opened on first use."""
        if self._outbox is None:
            with self._lock:
                if self._outbox is None:
                    from segur_core.outbox import Outbox

                    settings = self.config.settings
                    self._outbox = Outbox(
                        settings.store_url or self.data_dir / "outbox.sqlite",
                        runtime=self,
                        settings=settings.outbox,
                        tenant=settings.tenant,
                    )
        return self._outbox

    @property
    def has_outbox(self) -> bool:
        """Whether the outbox module is installed (it is part of segur-core)."""
        import importlib.util

        return importlib.util.find_spec("segur_core.outbox") is not None

    def service(
        self, key: str, factory: Callable[[], S], *, close: Callable[[S], object] | None = None
    ) -> S:
        """The plugin service ``key`` of this runtime (a client, a connection, a worker
        pool): made by ``factory()`` on the first call, the same object afterwards, closed
        when the runtime closes. ``key`` is the plugin's name (``"name.what"`` for a
        second service).

        ``factory`` runs once even when threads ask at the same time: under the runtime's
        lock, so keep it short (build the object, connect on first use). If it raises,
        nothing is kept and the error propagates; the next call runs it again.

        On :meth:`close` the service is closed with ``close(service)``, by default its own
        ``close()`` method when it has one: through :meth:`on_close`, so before the
        sandboxes stop and the databases close, the latest service first. Once the runtime
        is closed this raises :class:`~segur_core.errors.RuntimeClosedError`."""
        if not self._closed:
            found = self._services.get(key, _NONE)
            if found is not _NONE:
                return found  # type: ignore[no-any-return]
        with self._lock:
            if self._closed:
                raise RuntimeClosedError(
                    f"the runtime is closed: no service {key!r} from it",
                    hint="create a new runtime",
                )
            found = self._services.get(key, _NONE)
            if found is not _NONE:
                return found  # type: ignore[no-any-return]
            made = factory()
            closer = functools.partial(close, made) if close else getattr(made, "close", None)
            if callable(closer):
                self._on_close.append(closer)
            self._services[key] = made
            return made

    def sandboxes(self) -> list[Sandbox]:
        """Sandboxes contributed by the enabled plugins (not started)."""
        with self._lock:
            if self._sandbox_list is None:
                found: list[Sandbox] = []
                for group in self.pm.hook.segur_sandboxes(runtime=self):
                    found.extend(group)
                self._sandbox_list = found
            return list(self._sandbox_list)

    def sandbox(self, name: str) -> Sandbox:
        """The sandbox called ``name``, started on first use, stopped by :meth:`close`."""
        with self._lock:
            started = self._sandboxes.get(name)
            if started is not None:
                return started
            for candidate in self.sandboxes():
                if candidate.name == name:
                    if (
                        self.record_sandbox_exchanges
                        and getattr(candidate, "transcript", 0) is None
                    ):
                        from segur_core.sandbox.transcript import Transcript

                        candidate.transcript = Transcript()  # type: ignore[attr-defined]
                    candidate.start()
                    self._sandboxes[name] = candidate
                    return candidate
        raise PluginError(f"no enabled plugin provides a sandbox named {name!r}")

    def sandbox_transcripts(self) -> dict[str, Any]:
        """The :class:`~segur_core.sandbox.transcript.Transcript` of every started sandbox
        that records its exchanges, by sandbox name."""
        with self._lock:
            started = list(self._sandboxes.items())
        return {
            name: sandbox.transcript  # type: ignore[attr-defined]
            for name, sandbox in started
            if getattr(sandbox, "transcript", None) is not None
        }

    def test_pki(self) -> Any:
        """The test PKI (:class:`segur_core.sandbox.pki.TestPKI`) in ``data_dir/pki``."""
        with self._lock:
            if self._pki is None:
                from segur_core.sandbox.pki import TestPKI

                self._pki = TestPKI.create(self.data_dir / "pki")
            return self._pki

    # -- events (contained) -----------------------------------------------------------

    def card_read(self, reading: CardReading) -> None:
        """Announce a card reading (carte Vitale, appli carte Vitale, manual entry)."""
        self._announce("on_card_read", self._on_card_read, reading=reading)

    def patient_identified(self, patient: Patient, identity: Identity, source: str) -> None:
        """Announce that a patient's identity was established or changed."""
        self._announce(
            "on_patient_identified",
            self._on_patient_identified,
            patient=patient,
            identity=identity,
            source=source,
        )

    def prescription_scanned(self, prescription: Prescription, patient: Patient | None) -> None:
        """Announce a scanned and fetched ordonnance numérique."""
        self._announce(
            "on_prescription_scanned",
            self._on_prescription_scanned,
            prescription=prescription,
            patient=patient,
        )

    def document_validated(self, document: HealthDocument, patient: Patient) -> None:
        """Announce a document validated by the pharmacist."""
        self._announce(
            "on_document_validated", self._on_document_validated, document=document, patient=patient
        )

    def document_received(self, document: HealthDocument, origin: Origin) -> None:
        """Announce a document received from outside."""
        self._announce(
            "on_document_received", self._on_document_received, document=document, origin=origin
        )

    def delivery_settled(self, delivery: Delivery) -> None:
        """Announce that an outbox item was delivered or is dead."""
        self._announce("on_delivery_settled", self._on_delivery_settled, delivery=delivery)

    def delivery_dead(self, delivery: Delivery) -> None:
        """Announce that an outbox item is a dead letter (after :meth:`delivery_settled`)."""
        self._announce("on_delivery_dead", self._on_delivery_dead, delivery=delivery)

    def _announce(self, hook: str, caller: Any, **kwargs: Any) -> None:
        """Call the event ``hook`` through ``caller`` (counted), its failures contained."""
        self._counts[hook] += 1
        kwargs["runtime"] = self
        try:
            caller(**kwargs)
        except Exception as exc:
            self._contain(hook, caller, kwargs, exc)

    # -- decisions and contributions (exceptions propagate) ---------------------------

    def shareable_ins(self, patient: Patient) -> INS | None:
        """The patient's INS when it may be shared, else ``None``."""
        return self.pm.hook.segur_shareable_ins(patient=patient, runtime=self)

    def ins_oid(self) -> str | None:
        """The INS OID of this environment, ``None`` with no identity plugin."""
        return self.pm.hook.segur_ins_oid(runtime=self)

    def per_plugin(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call each implementation of a contribution hook, returning ``(plugin, result)``
        pairs (``None`` results skipped), in pluggy's call order."""
        caller = getattr(self.pm.hook, hook_name)
        kwargs.setdefault("runtime", self)
        results = []
        for impl in reversed(caller.get_hookimpls()):
            if impl.wrapper or impl.hookwrapper:
                continue
            result = impl.function(*(kwargs[a] for a in impl.argnames))
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def outbox_senders(self) -> dict[str, Sender]:
        """Senders of every delivery kind; a kind declared twice is a :class:`PluginError`."""
        senders: dict[str, Sender] = {}
        owners: dict[str, str] = {}
        for plugin, mapping in self.per_plugin("segur_outbox_senders"):
            for kind, sender in dict(mapping).items():
                if kind in senders:
                    raise PluginError(
                        f"delivery kind {kind!r} is also sent by {owners[kind]!r}", plugin=plugin
                    )
                senders[kind] = sender
                owners[kind] = plugin
        return senders

    def host_problems(self) -> list[tuple[str, str]]:
        """``(plugin, problem)`` pairs: what the enabled plugins need from the host and
        do not get (``segur_host_requirements``); empty when the host gives it all."""
        found = self.per_plugin("segur_host_requirements", host=self.host)
        return [(plugin, problem) for plugin, problems in found for problem in problems]

    def demo_steps(self) -> list[DemoStep]:
        """Demo steps of every enabled plugin, sorted by ``order``."""
        import attrs

        steps = []
        for plugin, contributed in self.per_plugin("segur_demo_steps"):
            for step in contributed:
                steps.append(step if step.plugin else attrs.evolve(step, plugin=plugin))
        return sorted(steps, key=lambda s: (s.order, s.plugin))

    def doctor_checks(self) -> list[tuple[str, DoctorCheck]]:
        """``(plugin, check)`` pairs contributed to ``segur doctor``."""
        return [(p, c) for p, checks in self.per_plugin("segur_doctor_checks") for c in checks]

    def recipients(self, document: HealthDocument, patient: Patient) -> list[Recipient]:
        """Recipients proposed by every plugin for a validated document."""
        found = self.pm.hook.segur_recipients(document=document, patient=patient, runtime=self)
        return [r for group in found for r in group]

    def export_sections(
        self,
        patient_id: str | None = None,
        since: dt.datetime | None = None,
        documents: Sequence[HealthDocument] | None = None,
    ) -> list[ExportSection]:
        """Portability export sections of every plugin: a patient's, or the transverse
        part's when ``patient_id`` is ``None``; ``documents``: the patient's documents
        already read from the host, handed to the plugins (read once)."""
        found = self.pm.hook.segur_export_sections(
            patient_id=patient_id, since=since, runtime=self, documents=documents
        )
        return [s for group in found for s in group]

    # -- life cycle -------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def on_close(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` when this runtime closes, after the outbox worker stopped and
        before the sandboxes stop and the databases close (last registered, first
        called): how a plugin releases what it started outside :meth:`service` (which
        registers its closers here). A callback that raises is logged."""
        with self._lock:
            self._on_close.append(callback)

    def close(self) -> None:
        """Stop the outbox worker (an item in flight finishes with the plugin services
        still open), close the plugin services and release what plugins registered with
        :meth:`on_close`, stop sandboxes, persist counters, close databases. Idempotent."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        if self._outbox is not None:
            stop = getattr(self._outbox, "stop_worker", None)
            with contextlib.suppress(Exception):
                if stop is not None:
                    stop()
        with self._lock:
            self._closed = True
            callbacks, self._on_close = self._on_close[::-1], []
            self._services.clear()
        for callback in callbacks:
            try:
                callback()
            except Exception as exc:
                log.warning("a plugin's close callback failed: %s", type(exc).__name__)
        for sandbox in reversed(list(self._sandboxes.values())):
            try:
                sandbox.stop()
            except Exception as exc:
                log.warning("sandbox %s did not stop cleanly: %s", sandbox.name, exc)
        self._sandboxes.clear()
        if self._outbox is not None:
            _close(self._outbox)
        self._flush_health()
        if self._journal is not None:
            _close(self._journal)
        if self._owned_host is not None:
            _close(self._owned_host)

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        loaded = ", ".join(r.name for r in self.loaded_plugins())
        return f"<Runtime mode={self.config.mode} plugins=[{loaded}] data_dir={self.data_dir}>"


def _close(obj: Any) -> None:
    close = getattr(obj, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception as exc:
        log.warning("%s did not close cleanly: %s", type(obj).__name__, exc)


def _as_config(config: Config | Mapping[str, Any] | str | os.PathLike[str] | None) -> Config:
    if config is None:
        return Config.default()
    if isinstance(config, Config):
        return config
    if isinstance(config, Mapping):
        return Config.from_dict(config)
    return load_config(config)


def create_runtime(
    config: Config | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    host: object | str | None = None,
    strict: bool = False,
    extra_plugins: Sequence[object] = (),
    data_dir: str | os.PathLike[str] | None = None,
    trace: bool | None = None,
    autoload: bool | None = None,
    actor: str | None = None,
) -> Runtime:
    """Create and start a runtime.

    :param config: a :class:`~segur_core.config.Config`, parsed TOML data, a path to a
        ``segur.toml``, or ``None`` for the defaults (no file lookup: call
        :func:`~segur_core.config.load_config` for that).
    :param host: an object implementing the host contract (:mod:`segur_core.host`), or
        the reference ``"package.module:callable"`` of a factory making one. ``None``: the
        factory named by ``$SEGUR_HOST``, else ``[segur] host``, else the default
        (:data:`~segur_core.host.DEFAULT_HOST_FACTORY`: the SQLite reference host in
        ``data_dir/host.sqlite``). A host made by a factory is closed with the runtime; a
        factory that fails or makes no host is a :class:`~segur_core.errors.ConfigError`
        naming the setting.
    :param strict: a plugin that fails to load raises
        :class:`~segur_core.errors.PluginLoadError` (also ``[segur] strict``).
    :param extra_plugins: plugin objects (or ``(name, object)`` pairs) registered in
        addition to discovered ones, even when autoload is disabled.
    :param data_dir: where databases go; default ``[segur] data_dir`` or ``./.segur``.
    :param trace: log every hook call on ``segur.trace``; default ``$SEGUR_TRACE``.
    :param autoload: discover installed plugins; default: unless
        ``$SEGUR_DISABLE_PLUGIN_AUTOLOAD`` is set.
    :param actor: who acts through this runtime, named by the journal records whose
        writer names nobody else (the ``segur`` command line: ``cli:<login>``).
    """
    cfg = _as_config(config)
    directory = Path(data_dir) if data_dir is not None else (cfg.data_dir or Path(".segur"))
    directory = directory.expanduser().resolve()
    from segur_core.files import private_dir

    private_dir(directory)  # 0700: it holds patient data and keys
    runtime = Runtime(
        cfg,
        data_dir=directory,
        strict=strict or cfg.strict,
        trace=_truthy(os.environ.get(TRACE_ENV)) if trace is None else trace,
    )
    runtime.actor = actor
    try:
        runtime._start(host, extra_plugins, autoload)
    except BaseException:
        runtime.close()
        raise
    return runtime
