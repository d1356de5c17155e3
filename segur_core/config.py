"""``segur.toml``: where it is, what the ``[segur]`` table says, and plugin tables.

The file is found through ``--config``, then the ``SEGUR_CONFIG`` environment variable,
then ``./segur.toml``; with none of them the defaults run the demo. The ``[segur]``
table holds the core settings; every other table belongs to the plugin of that name and
is structured (by cattrs) into the attrs class the plugin declares in
``PluginInfo.config_class``. Errors name the exact key (``ins.timeout``) and the
expected type. Secrets are written ``env:NAME`` or ``file:PATH`` and become
:class:`~segur_core.secrets.Secret` values, shown as ``***`` everywhere.

This module imports attrs and cattrs only when a plugin table is structured, so that
reading the ``[segur]`` table stays cheap for ``segur plugins``.
"""

from __future__ import annotations

import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from segur_core.errors import ConfigError
from segur_core.limits import out_of_range
from segur_core.secrets import (
    REDACTED,
    Secret,
    is_reference,
    looks_secret,
    redact_text,
    resolve,
)

__all__ = [
    "CONFIG_ENV",
    "MODES",
    "Config",
    "SegurSettings",
    "find_config_file",
    "load_config",
    "redacted",
    "structure_table",
]

T = TypeVar("T")

CONFIG_ENV = "SEGUR_CONFIG"
DEFAULT_FILE = "segur.toml"
MODES = ("demo", "test", "production")
_SEGUR_KEYS = {
    *("plugins", "data_dir", "mode", "strict", "outbox", "journal", "host", "serve"),
    *("store", "tenant"),
}
MAX_CONFIG_BYTES = 1024 * 1024


class SegurSettings:
    """The ``[segur]`` table (immutable).

    ``plugins``: names of the enabled plugins (``None``: every installed plugin).
    ``data_dir``: where the runtime keeps its databases (default ``./.segur``).
    ``mode``: ``demo``, ``test`` or ``production`` (chooses test or production OIDs,
    sandboxes or real endpoints). ``strict``: a plugin that fails to load is fatal.
    ``outbox``: the ``[segur.outbox]`` retry policies
    (:class:`~segur_core.outbox.OutboxSettings`; ``None``: the defaults).
    ``journal``: the ``[segur.journal]`` checkpoint settings
    (:class:`~segur_core.journal.JournalSettings`; ``None``: the defaults).
    ``host``: the host factory, ``"package.module:callable"`` (``None``: the SQLite
    reference host; see :mod:`segur_core.host.factory`).
    ``serve``: the raw ``[segur.serve]`` table of ``segur serve``, read by
    :meth:`segur_core.serve.ServeSettings.from_config` (``None``: the defaults).
    ``store``: where the outbox, the journal and the reference host live: ``None``
    (SQLite files in ``data_dir``) or a ``postgresql://`` URL, a
    :class:`~segur_core.secrets.Secret` (``env:``/``file:``; its password is never inline).
    ``tenant``: with a PostgreSQL store, the pharmacy's FINESS (whose rows it sees).

    A plain class rather than an attrs one: ``segur plugins`` reads it and must not pay
    for importing attrs when no plugin needs it.
    """

    __slots__ = (
        *("data_dir", "host", "journal", "mode", "outbox", "plugins", "serve", "strict"),
        *("store", "tenant"),
    )

    plugins: tuple[str, ...] | None
    data_dir: Path | None
    mode: str
    strict: bool
    outbox: Any
    journal: Any
    host: str | None
    serve: Any
    store: Any
    tenant: str | None

    def __init__(
        self,
        plugins: tuple[str, ...] | None = None,
        data_dir: Path | None = None,
        mode: str = "demo",
        strict: bool = False,
        outbox: Any = None,
        journal: Any = None,
        host: str | None = None,
        serve: Any = None,
        store: Any = None,
        tenant: str | None = None,
    ) -> None:
        object.__setattr__(self, "store", store)
        object.__setattr__(self, "tenant", tenant)
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "serve", serve)
        object.__setattr__(self, "outbox", outbox)
        object.__setattr__(self, "journal", journal)
        object.__setattr__(self, "plugins", None if plugins is None else tuple(plugins))
        object.__setattr__(self, "data_dir", data_dir)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "strict", strict)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _fields(self) -> dict[str, Any]:
        names = ("plugins", "data_dir", "mode", "strict", "outbox", "journal", "host", "serve")
        return {name: getattr(self, name) for name in (*names, "store", "tenant")}

    @property
    def store_url(self) -> str | None:
        """The PostgreSQL URL of the stores, revealed (``None``: SQLite files)."""
        return None if self.store is None else self.store.reveal()

    def replace(self, **changes: Any) -> SegurSettings:
        """A copy with some settings replaced."""
        return SegurSettings(**{**self._fields(), **changes})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SegurSettings) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(tuple(self._fields().values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._fields().items())
        return f"SegurSettings({inner})"


class Config:
    """The whole configuration: the ``[segur]`` settings, the raw plugin tables, and
    the file it came from (``None`` for defaults)."""

    __slots__ = ("path", "settings", "tables")

    def __init__(
        self,
        settings: SegurSettings | None = None,
        tables: Mapping[str, Mapping[str, Any]] | None = None,
        path: Path | None = None,
    ) -> None:
        self.settings = settings if settings is not None else SegurSettings()
        self.tables: Mapping[str, Mapping[str, Any]] = dict(tables or {})
        self.path = path

    def __repr__(self) -> str:
        return (
            f"Config(path={self.path!r}, settings={self.settings!r}, tables={sorted(self.tables)})"
        )

    @property
    def mode(self) -> str:
        return self.settings.mode

    @property
    def plugins(self) -> tuple[str, ...] | None:
        return self.settings.plugins

    @property
    def data_dir(self) -> Path | None:
        return self.settings.data_dir

    @property
    def strict(self) -> bool:
        return self.settings.strict

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the file are resolved against."""
        return self.path.parent if self.path is not None else Path.cwd()

    def table(self, name: str) -> Mapping[str, Any]:
        """The raw ``[name]`` table (empty when absent)."""
        return self.tables.get(name, {})

    def evolve(self, **settings: Any) -> Config:
        """A copy with some ``[segur]`` settings replaced."""
        return Config(self.settings.replace(**settings), self.tables, self.path)

    @classmethod
    def default(cls) -> Config:
        """The configuration used when there is no file: demo mode, every plugin."""
        return cls()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: Path | None = None) -> Config:
        """Build a configuration from parsed TOML (``{"segur": {...}, "ins": {...}}``)."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"expected a table, got {type(data).__name__}")
        base = path.parent if path is not None else Path.cwd()
        segur = data.get("segur", {})
        if not isinstance(segur, Mapping):
            raise ConfigError("expected a table", key="segur")
        settings = _settings(segur, base)
        tables: dict[str, Mapping[str, Any]] = {}
        for name, table in data.items():
            if name == "segur":
                continue
            if not isinstance(table, Mapping):
                raise ConfigError(
                    f"expected a table [{name}], got {type(table).__name__}",
                    key=name,
                    hint="top-level keys other than tables are not allowed",
                )
            tables[name] = dict(table)
        return cls(settings=settings, tables=tables, path=path)


def _settings(table: Mapping[str, Any], base: Path) -> SegurSettings:
    unknown = sorted(set(table) - _SEGUR_KEYS)
    if unknown:
        raise ConfigError(
            "unknown key", key=f"segur.{unknown[0]}", hint=f"known keys: {sorted(_SEGUR_KEYS)}"
        )
    plugins = table.get("plugins")
    if plugins is not None:
        if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
            raise ConfigError("expected a list of plugin names (list[str])", key="segur.plugins")
        plugins = tuple(plugins)
    data_dir = table.get("data_dir")
    if data_dir is not None:
        if not isinstance(data_dir, str):
            raise ConfigError("expected a path (str)", key="segur.data_dir")
        data_dir = Path(data_dir).expanduser()
        if not data_dir.is_absolute():
            data_dir = base / data_dir
    mode = table.get("mode", "demo")
    if mode not in MODES:
        raise ConfigError(f"expected one of {', '.join(MODES)}, got {mode!r}", key="segur.mode")
    strict = table.get("strict", False)
    if not isinstance(strict, bool):
        raise ConfigError("expected a boolean (bool)", key="segur.strict")
    outbox = table.get("outbox")
    if outbox is not None:  # imported only when configured: reading [segur] stays cheap
        from segur_core.outbox.policy import OutboxSettings

        outbox = OutboxSettings.from_table(outbox)
    journal = table.get("journal")
    if journal is not None:
        from segur_core.journal.settings import JournalSettings

        journal = JournalSettings.from_table(journal, base)
    serve = table.get("serve")  # read by segur_core.serve (a layer above), key by key
    if serve is not None and not isinstance(serve, Mapping):
        raise ConfigError(f"expected a table, got {type(serve).__name__}", key="segur.serve")
    host = table.get("host")
    if host is not None and (not isinstance(host, str) or not _is_reference(host)):
        raise ConfigError(
            "expected a host factory 'package.module:callable' (str)", key="segur.host"
        )
    store, tenant = _store(table, base)
    return SegurSettings(
        plugins=plugins,
        data_dir=data_dir,
        mode=mode,
        strict=strict,
        outbox=outbox,
        journal=journal,
        host=host,
        serve=serve,
        store=store,
        tenant=tenant,
    )


def _store(table: Mapping[str, Any], base: Path) -> tuple[Secret | None, str | None]:
    """``[segur] store`` and ``tenant``: ``"sqlite"`` (the default) or a PostgreSQL URL
    given as ``env:``/``file:``, with the pharmacy's FINESS."""
    store, tenant = table.get("store", "sqlite"), table.get("tenant")
    if store == "sqlite":
        if tenant is not None:
            raise ConfigError("a tenant needs a PostgreSQL store", key="segur.tenant")
        return None, None
    if not isinstance(store, str) or not is_reference(store):
        raise ConfigError(
            'expected "sqlite" or a PostgreSQL URL as env:NAME or file:PATH',
            key="segur.store",
            hint="the URL carries a password: keep it out of segur.toml",
        )
    url = resolve(store, key="segur.store", base_dir=base)
    if not url.reveal().strip().startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"{store} is not a postgresql:// URL", key="segur.store")
    from segur_core.postgres import check_tenant

    return Secret(url.reveal().strip(), source=url.source), check_tenant(tenant)


def _is_reference(text: str) -> bool:
    module, sep, name = text.partition(":")
    return bool(sep and module.strip() and name.strip())


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: ``explicit``, else ``$SEGUR_CONFIG``, else ``./segur.toml``
    if it exists, else ``None``. An explicit or environment path must exist."""
    if explicit is not None:
        path = Path(explicit)
    elif os.environ.get(CONFIG_ENV):
        path = Path(os.environ[CONFIG_ENV])
    else:
        path = Path(DEFAULT_FILE)
        return path.resolve() if path.is_file() else None
    try:
        if not path.is_file():
            raise ConfigError(f"configuration file {path} does not exist")
        return path.resolve()
    except OSError as exc:  # a name too long, a loop of links...
        name = str(path)[:80]
        raise ConfigError(f"cannot use {name!r} as a configuration file ({exc.strerror})") from None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read the configuration (see :func:`find_config_file`); defaults when no file."""
    found = find_config_file(path)
    if found is None:
        return Config.default()
    try:
        with found.open("rb") as stream:
            raw = stream.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{found}: larger than {MAX_CONFIG_BYTES} bytes, not a segur.toml")
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{found}: not UTF-8 text (byte {exc.start}), not a segur.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{found}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {found} ({exc.strerror})") from None
    return Config.from_dict(data, path=found)


# -- plugin tables -------------------------------------------------------------------------

_converters: dict[Path, Any] = {}


def _converter(base_dir: Path) -> Any:
    """A strict cattrs converter: unknown keys refused, secrets resolved, paths anchored."""
    conv = _converters.get(base_dir)
    if conv is not None:
        return conv
    import cattrs

    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)

    def structure_str(value: Any, _: type) -> str:
        if isinstance(value, Secret):
            raise TypeError("a secret reference needs a field of type Secret")
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        return value

    def structure_secret(value: Any, _: type) -> Secret:
        if isinstance(value, Secret):
            return value
        if not isinstance(value, str):
            raise TypeError(f"expected a secret string, got {type(value).__name__}")
        return Secret(value)

    def structure_path(value: Any, _: type) -> Path:
        if not isinstance(value, str | os.PathLike):
            raise TypeError(f"expected a path string, got {type(value).__name__}")
        path = Path(value).expanduser()
        return path if path.is_absolute() else base_dir / path

    def structure_int(value: Any, _: type) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        if problem := out_of_range(value, integer=True):
            raise ValueError(problem)
        return value

    def structure_float(value: Any, _: type) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"expected float, got {type(value).__name__}")
        if problem := out_of_range(value, integer=False):
            raise ValueError(problem)
        return float(value)

    def structure_bool(value: Any, _: type) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected bool, got {type(value).__name__}")
        return value

    conv.register_structure_hook(str, structure_str)
    conv.register_structure_hook(Secret, structure_secret)
    conv.register_structure_hook(Path, structure_path)
    conv.register_structure_hook(int, structure_int)
    conv.register_structure_hook(float, structure_float)
    conv.register_structure_hook(bool, structure_bool)
    _converters[base_dir] = conv
    return conv


def _resolve_references(value: Any, key: str, base_dir: Path) -> Any:
    """Replace ``env:``/``file:`` strings by :class:`Secret` values, recursively."""
    if is_reference(value):
        return resolve(value, key=key, base_dir=base_dir)
    if isinstance(value, Mapping):
        return {k: _resolve_references(v, f"{key}.{k}", base_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_references(v, f"{key}[{i}]", base_dir) for i, v in enumerate(value)]
    return value


def _type_name(tp: Any) -> str:
    if tp is None:
        return "a valid value"
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    text = str(tp).replace("typing.", "").replace("pathlib.", "")
    return text.replace("segur_core.secrets.", "")


def _first_error(exc: BaseException, path: str) -> tuple[str, str]:
    """``(key path, message)`` of the first leaf error of a cattrs validation error."""
    from cattrs.errors import (
        ClassValidationError,
        ForbiddenExtraKeysError,
        IterableValidationError,
    )

    if isinstance(exc, ForbiddenExtraKeysError):
        return f"{path}.{sorted(exc.extra_fields)[0]}", "unknown key"
    if isinstance(exc, ClassValidationError | IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            index = getattr(note, "index", None)
            name = getattr(note, "name", None)
            sub_path = f"{path}[{index!r}]" if name is None else f"{path}.{name}"
            if isinstance(
                sub, ClassValidationError | IterableValidationError | ForbiddenExtraKeysError
            ):
                return _first_error(sub, sub_path)
            return sub_path, _leaf_message(sub, note.type)
        for sub in without:
            field = _validator_field(sub)
            if field is not None:
                return f"{path}.{field}", _leaf_message(sub, None)
            return _first_error(sub, path)
    if isinstance(exc, KeyError):
        return f"{path}.{exc.args[0]}", "required key is missing"
    return path, _leaf_message(exc, None)


def _validator_field(exc: BaseException) -> str | None:
    """The field an attrs validator was checking when it raised (found in the frames of
    the traceback: validators receive the ``attrs.Attribute``)."""
    import attrs

    tb = exc.__traceback__
    found = None
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if isinstance(value, attrs.Attribute):
                found = value.name
        tb = tb.tb_next
    return found


def _leaf_message(exc: BaseException, tp: Any) -> str:
    if isinstance(exc, KeyError):
        return "required key is missing"
    expected = f"expected {_type_name(tp)}"
    detail = str(exc)
    if tp is None and detail and isinstance(exc, TypeError | ValueError):
        return detail
    if isinstance(exc, TypeError | ValueError) and detail:
        if detail.startswith("expected") or "secret" in detail:
            return detail if tp is None else f"{detail} ({expected})"
        return f"{expected} ({detail})"
    return expected


def structure_table(config: Config, name: str, cls: type[T]) -> T:
    """Structure the ``[name]`` table into ``cls``; :class:`ConfigError` names the key.

    A key ``cls.moved_keys`` lists (``{old: new dotted key}``) is refused with a hint
    naming where it lives now."""
    raw = _resolve_references(dict(config.table(name)), name, config.base_dir)
    moved = getattr(cls, "moved_keys", {})  # {old key: new dotted key} of a class
    for old in sorted(set(raw) & set(moved)):
        table, _, leaf = f"{name}.{moved[old]}".rpartition(".")
        raise ConfigError(
            f"this key is now {leaf} in the [{table}] table",
            key=f"{name}.{old}",
            hint=f"move it: [{table}] {leaf} = ...",
        )
    conv = _converter(config.base_dir)
    try:
        return conv.structure(raw, cls)
    except ConfigError:
        raise
    except Exception as exc:
        key, message = _first_error(exc, name)
        raise ConfigError(message, key=key) from None


# -- showing the effective configuration ---------------------------------------------------


def redacted(value: Any, key: str = "") -> Any:
    """Plain JSON-ready data with every secret as ``***``: :class:`Secret` values,
    ``env:``/``file:`` references, and any scalar under a secret-looking key or table
    (:func:`~segur_core.secrets.looks_secret` on the dotted key path: ``pin = 4321``,
    ``client_pwd``, ``[x.credentials]``). Structured :class:`~pathlib.Path` values stay
    shown: the location of a key file is not the secret, its content is."""
    import attrs

    if isinstance(value, Secret) or is_reference(value):
        return REDACTED
    if attrs.has(type(value)):
        return {
            f.name: redacted(getattr(value, f.name), _child(key, f.name))
            for f in attrs.fields(type(value))
        }
    if isinstance(value, Mapping):
        return {str(k): redacted(v, _child(key, str(k))) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redacted(v, key) for v in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool) or value == "":
        return value
    if key and looks_secret(key):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, types.FunctionType | type):
        return getattr(value, "__qualname__", repr(value))
    return str(value)


def _child(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name
