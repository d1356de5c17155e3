"""The guarded plugin loader: entry points of group ``segur`` into a PluginManager.

Unlike ``PluginManager.load_setuptools_entrypoints``, one bad plugin never stops the
others: a plugin that fails to import, whose ``segur_plugin_info`` raises, whose
``requires_core`` excludes this core, or whose hook implementations do not match the
specs is recorded with its error and skipped. ``strict=True`` turns any of these into a
:class:`~segur_core.errors.PluginLoadError`. Disabled plugins are listed, never imported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from segur_core._isolation import PluginStats
from segur_core._version import __version__
from segur_core.errors import PluginLoadError

if TYPE_CHECKING:
    from segur_core.plugin import PluginInfo

__all__ = [
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "PLUGINS_ENV",
    "PluginRecord",
    "autoload_enabled",
    "load_plugins",
    "new_plugin_manager",
]

ENTRY_POINT_GROUP = "segur"
PLUGINS_ENV = "SEGUR_PLUGINS"
AUTOLOAD_ENV = "SEGUR_DISABLE_PLUGIN_AUTOLOAD"

#: Statuses a plugin record can have.
LOADED, DISABLED, ERROR, INCOMPATIBLE, MISSING = (
    "loaded",
    "disabled",
    "error",
    "incompatible",
    "missing",
)


class PluginRecord:
    """What the runtime knows about one plugin: where it comes from, whether it is
    enabled and loaded, why not, which hooks it implements, and its counters."""

    __slots__ = (
        "distribution",
        "enabled",
        "entry_point",
        "error",
        "hooks",
        "info",
        "name",
        "plugin",
        "stats",
        "status",
        "version",
    )

    def __init__(
        self,
        name: str,
        *,
        distribution: str | None = None,
        version: str | None = None,
        entry_point: str | None = None,
        enabled: bool = True,
        status: str = LOADED,
    ) -> None:
        self.name = name
        self.distribution = distribution
        self.version = version
        self.entry_point = entry_point
        self.enabled = enabled
        self.status = status
        self.error: str | None = None
        self.info: PluginInfo | None = None
        self.plugin: object | None = None
        self.hooks: tuple[str, ...] = ()
        self.stats = PluginStats(name)

    @property
    def loaded(self) -> bool:
        return self.status == LOADED

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view, as ``segur plugins --json`` prints it."""
        info = self.info
        return {
            "name": self.name,
            "version": info.version if info else self.version,
            "distribution": self.distribution,
            "entry_point": self.entry_point,
            "enabled": self.enabled,
            "status": self.status,
            "error": self.error,
            "summary": info.summary if info else "",
            "capabilities": list(info.capabilities) if info else [],
            "requires_core": info.requires_core if info else None,
            "hooks": list(self.hooks),
            **self.stats.as_dict(),
        }

    def __repr__(self) -> str:
        return f"<PluginRecord {self.name} {self.status}>"


def autoload_enabled(env: Mapping[str, str] = os.environ) -> bool:
    """False when ``SEGUR_DISABLE_PLUGIN_AUTOLOAD`` is set to a true value."""
    return env.get(AUTOLOAD_ENV, "").strip().lower() not in {"1", "true", "yes", "on"}


def _env_plugins(env: Mapping[str, str]) -> set[str] | None:
    value = env.get(PLUGINS_ENV)
    if value is None or not value.strip():
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _short_error(exc: BaseException) -> str:
    """``ModuleNotFoundError: No module named 'x' (plugin.py:3)``: one line, for a load error."""
    import traceback

    text = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    line = text[-1] if text else type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    frames = [
        f
        for f in frames
        if not f.filename.startswith("<")
        and "importlib" not in f.filename
        and f.filename != __file__
    ]
    if frames:
        last = frames[-1]
        line += f" ({os.path.basename(last.filename)}:{last.lineno})"
    return line


def plugin_info(pm: pluggy.PluginManager, plugin: object) -> PluginInfo | None:
    """Call one plugin's own ``segur_plugin_info`` implementation, if it has one."""
    if pm.parse_hookimpl_opts(plugin, "segur_plugin_info") is None:
        return None
    from segur_core.plugin import PluginInfo

    info = plugin.segur_plugin_info()  # type: ignore[attr-defined]
    if not isinstance(info, PluginInfo):
        raise TypeError(f"segur_plugin_info returned {type(info).__name__}, not PluginInfo")
    return info


_CLAUSE = re.compile(r"\s*(~=|==|!=|<=|>=|<|>)\s*(\d+(?:\.\d+)*)\s*")
_RELEASE = re.compile(r"\d+(?:\.\d+)*")


def _release(text: str, width: int) -> tuple[int, ...]:
    parts = tuple(int(p) for p in text.split("."))
    return parts + (0,) * (width - len(parts))


def simple_contains(spec: str, version: str) -> bool | None:
    """Whether release ``version`` satisfies ``spec`` when both are plain releases and
    every clause is ``op X.Y.Z`` (the specifiers plugins write); ``None`` otherwise, for
    :mod:`packaging` to decide. Spares ``segur plugins`` the import of packaging."""
    if not _RELEASE.fullmatch(version):
        return None
    clauses = []
    for raw in spec.split(","):
        match = _CLAUSE.fullmatch(raw)
        if match is None:
            return None
        op, target = match.groups()
        if op == "~=" and "." not in target:
            return None  # "~=1" is invalid: let packaging say so
        clauses.append((op, target))
    for op, target in clauses:
        width = max(len(target.split(".")), len(version.split(".")))
        have, want = _release(version, width), _release(target, width)
        if op == "~=":
            prefix = target.split(".")[:-1]
            ok = have >= want and have[: len(prefix)] == tuple(int(p) for p in prefix)
        else:
            ok = {
                "==": have == want,
                "!=": have != want,
                "<=": have <= want,
                ">=": have >= want,
                "<": have < want,
                ">": have > want,
            }[op]
        if not ok:
            return False
    return True


def compatible(spec: str, version: str = __version__) -> bool:
    """Whether this core's ``version`` satisfies a plugin's ``requires_core``."""
    fast = simple_contains(spec, version)
    if fast is not None:
        return fast
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(spec).contains(version, prereleases=True)


def _fail(record: PluginRecord, status: str, error: str, strict: bool) -> None:
    record.status = status
    record.error = error
    record.plugin = None
    if strict:
        raise PluginLoadError(
            error, plugin=record.name, hint="fix or disable the plugin, or run without --strict"
        )


def _register(
    pm: pluggy.PluginManager,
    record: PluginRecord,
    plugin: object,
    *,
    strict: bool,
    check_info: bool = True,
) -> bool:
    """Check compatibility and register ``plugin`` under ``record.name``."""
    try:
        info = plugin_info(pm, plugin) if check_info else record.info
    except Exception as exc:
        _fail(record, ERROR, f"segur_plugin_info failed: {_short_error(exc)}", strict)
        return False
    if info is None:
        from segur_core.plugin import PluginInfo

        info = PluginInfo(name=record.name, version=record.version or "0")
    record.info = info
    try:
        ok = compatible(info.requires_core)
    except Exception:
        _fail(record, ERROR, f"invalid requires_core specifier {info.requires_core!r}", strict)
        return False
    if not ok:
        _fail(
            record,
            INCOMPATIBLE,
            f"requires segur-core {info.requires_core}, this is {__version__}",
            strict,
        )
        return False
    if pm.has_plugin(record.name):
        _fail(record, ERROR, f"another plugin is already registered as {record.name!r}", strict)
        return False
    try:
        pm.register(plugin, name=record.name)
    except Exception as exc:  # PluginValidationError, ValueError (already registered)
        _fail(record, ERROR, f"invalid hook implementation: {_short_error(exc)}", strict)
        return False
    callers = pm.get_hookcallers(plugin) or []
    unknown = sorted(
        hc.name
        for hc in callers
        if not hc.has_spec()
        and any(not impl.optionalhook for impl in hc.get_hookimpls() if impl.plugin is plugin)
    )
    if unknown:
        pm.unregister(plugin)
        _fail(record, ERROR, f"implements unknown hooks: {', '.join(unknown)}", strict)
        return False
    record.plugin = plugin
    record.status = LOADED
    record.hooks = tuple(sorted(hc.name for hc in callers))
    return True


def new_plugin_manager() -> pluggy.PluginManager:
    """An empty pluggy manager knowing every segur hook: the plugin hooks
    (:mod:`segur_core.hookspecs`) and the host contract (:mod:`segur_core.host.hookspecs`).
    The one place that lists the spec modules (the runtime, the ``segur`` commands and
    the testing kit all start from it)."""
    from segur_core import hookspecs
    from segur_core.host import hookspecs as host_hookspecs

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.add_hookspecs(host_hookspecs)
    return pm


def load_plugins(
    pm: pluggy.PluginManager,
    *,
    enabled: Iterable[str] | None = None,
    strict: bool = False,
    extra_plugins: Iterable[object] = (),
    env: Mapping[str, str] = os.environ,
    autoload: bool | None = None,
    on_registered: Callable[[PluginRecord], None] | None = None,
) -> dict[str, PluginRecord]:
    """Discover, import, check and register plugins; return a record per plugin.

    ``enabled`` is the ``[segur] plugins`` list (``None``: all discovered). Extra
    plugins (objects, or ``(name, object)`` pairs) are always enabled. ``autoload``
    overrides ``SEGUR_DISABLE_PLUGIN_AUTOLOAD``.
    """
    records: dict[str, PluginRecord] = {}
    wanted = None if enabled is None else set(enabled)
    narrowed = _env_plugins(env)
    if autoload is None:
        autoload = autoload_enabled(env)

    eps: list[EntryPoint] = (
        sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name) if autoload else []
    )
    for ep in eps:
        dist = ep.dist
        record = PluginRecord(
            ep.name,
            distribution=dist.name if dist is not None else None,
            version=dist.version if dist is not None else None,
            entry_point=ep.value,
        )
        if ep.name in records:
            other = records[ep.name]
            record.name = f"{ep.name} ({record.distribution})"
            records[record.name] = record
            _fail(
                record,
                ERROR,
                f"entry point name {ep.name!r} is also used by {other.distribution}",
                strict,
            )
            continue
        records[ep.name] = record
        is_enabled = (wanted is None or ep.name in wanted) and (
            narrowed is None or ep.name in narrowed
        )
        record.enabled = is_enabled
        if not is_enabled:
            record.status = DISABLED
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            _fail(record, ERROR, f"import failed: {_short_error(exc)}", strict)
            continue
        if _register(pm, record, plugin, strict=strict) and on_registered is not None:
            on_registered(record)

    if autoload and wanted is not None:
        for name in sorted(wanted - set(records)):
            if narrowed is not None and name not in narrowed:
                continue
            record = PluginRecord(name, status=MISSING)
            records[name] = record
            _fail(record, MISSING, "enabled in the configuration but not installed", strict)

    for extra in extra_plugins:
        if isinstance(extra, tuple):
            name, plugin = extra
            info = None
        else:
            plugin = extra
            try:
                info = plugin_info(pm, plugin)
            except Exception:
                info = None
            name = info.name if info is not None else pm.get_canonical_name(plugin)
        record = PluginRecord(name, entry_point=None)
        if name in records:
            record.name = name = f"{name} (extra)"
        records[name] = record
        if _register(pm, record, plugin, strict=strict) and on_registered is not None:
            on_registered(record)
    return records
