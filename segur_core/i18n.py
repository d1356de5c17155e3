"""One language per run: the messages segur shows, in French or English.

The language is chosen once per process, the first time a message is translated:
``$SEGUR_LANG`` (``fr`` or ``en``), else the locale as gettext reads it (``$LANGUAGE``,
``$LC_ALL``, ``$LC_MESSAGES``, ``$LANG``; a ``C``/``POSIX`` locale is English). A language
segur has no catalog for is English. Every screen of that run is in that language,
click's own words included ("Usage:", "Options", "Missing argument"): see
:func:`install_click`.

Messages are written in English in the code (they are the catalog's msgids) and
translated through stdlib :mod:`gettext` from compiled catalogs shipped in the package
(``<package>/locale/<lang>/LC_MESSAGES/<package>.mo``). Babel extracts and compiles them
(a development tool only): ``uv run python tools/catalogs.py`` after changing messages,
then fill in the French ``msgstr`` of ``<package>/locale/fr/LC_MESSAGES/<package>.po``
and run it again; a test fails while a message has no French or English entry.

How to mark a message:

.. code-block:: python

    from segur_core.i18n import _, _l, ngettext   # in a plugin: from segur_x.i18n import ...

    raise click.ClickException(_("no patient {id}").format(id=patient_id))
    click.echo(ngettext("{n} item", "{n} items", n).format(n=n))

    @click.option("--json", is_flag=True, help=_l("Print JSON for machines."))

* ``_`` translates now: use it inside functions, where the text is shown.
* ``_l`` is lazy: for text built at import time (click ``help=``, module constants); it
  is translated each time it is used as a string.
* Format *after* translating (``_("… {name}").format(name=…)``), never inside ``_()``:
  the msgid must be a literal for the extractor. Keep placeholders named.
* A plugin adds ``<package>/i18n.py`` with ``_, _l, ngettext = Catalog.of(__file__)``
  (one catalog per distribution, so each wheel carries its own) and lists its package
  in ``tools/catalogs.py``.
* Not translated: the French labels of official codes (CNDA, CI-SIS value sets, INSi
  statuses), identifiers, command and option names, JSON keys and values, the journal
  and logs (they are read by programs and auditors, not shown to an operator).
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANG_ENV",
    "N_",
    "Catalog",
    "LazyText",
    "_",
    "_l",
    "help_texts",
    "install_click",
    "language",
    "localize",
    "module_catalog",
    "ngettext",
    "resolve_language",
    "set_language",
    "translated_summary",
]

#: Overrides the locale for segur alone (``fr`` or ``en``).
LANG_ENV = "SEGUR_LANG"
#: The languages segur has catalogs for.
LANGUAGES = ("en", "fr")
#: The language of the msgids, and of any locale segur has no catalog for.
DEFAULT_LANGUAGE = "en"

_chosen: str | None = None


def _base(value: str) -> str:
    """``fr_FR.UTF-8@euro`` -> ``fr``."""
    return value.split(".")[0].split("@")[0].split("_")[0].split("-")[0].strip().lower()


def resolve_language(environ: Mapping[str, str] | None = None) -> str:
    """The language of a run with ``environ``: ``$SEGUR_LANG``, else gettext's order
    (``LANGUAGE`` list, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``) as GNU gettext reads it
    (``LANGUAGE`` is ignored under a ``C`` locale); English where nothing matches."""
    env = os.environ if environ is None else environ
    forced = _base(env.get(LANG_ENV, ""))
    if forced in LANGUAGES:
        return forced
    locale_name = next(
        (env[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(k, "").strip()), ""
    )
    if _base(locale_name) in {"c", "posix"}:
        return DEFAULT_LANGUAGE
    # a LANGUAGE list replaces the locale: its first language with a catalog wins
    candidates = [c for c in env.get("LANGUAGE", "").split(":") if c.strip()] or [locale_name]
    return next((_base(c) for c in candidates if _base(c) in LANGUAGES), DEFAULT_LANGUAGE)


def language() -> str:
    """The language of this run, chosen on first use and kept for the whole run."""
    global _chosen
    if _chosen is None:
        _chosen = resolve_language()
    return _chosen


def set_language(value: str | None) -> None:
    """Choose the language of this process (``None``: from the environment again).
    Catalogs already loaded follow: for tests and embedding hosts, not for a CLI run."""
    global _chosen
    if value is not None and value not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {value!r}")
    _chosen = value
    for catalog in Catalog._all:
        catalog._translations = None


class Catalog:
    """The translations of one package (its ``locale`` folder, its own gettext domain)."""

    _all: ClassVar[list[Catalog]] = []

    def __init__(self, domain: str, localedir: Path, *, register: bool = True) -> None:
        self.domain = domain
        self.localedir = localedir
        self._translations: _gettext.NullTranslations | None = None
        if register:  # followed by set_language
            Catalog._all.append(self)

    @classmethod
    def of(
        cls, init_file: str
    ) -> tuple[Callable[[str], str], Callable[[str], LazyText], Callable[[str, str, int], str]]:
        """``_, _l, ngettext`` of the package whose ``__init__.py`` or ``i18n.py`` is
        ``init_file`` (its folder name is the domain)."""
        folder = Path(init_file).resolve().parent
        catalog = cls(folder.name, folder / "locale")
        return catalog.gettext, catalog.lazy, catalog.ngettext

    def translations(self) -> _gettext.NullTranslations:
        if self._translations is None:
            self._translations = _gettext.translation(
                self.domain, str(self.localedir), languages=[language()], fallback=True
            )
        return self._translations

    def gettext(self, message: str) -> str:
        """``message`` in the language of the run."""
        return self.translations().gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for ``n``, in the language of the run."""
        return self.translations().ngettext(singular, plural, n)

    def lazy(self, message: str) -> LazyText:
        """``message``, translated each time it is used as a string."""
        return LazyText(self, message)


class LazyText:
    """A message translated when used (click help, module constants): ``str()`` of it,
    formatting, concatenation and every ``str`` method give the translated text, as a
    plain ``str``."""

    __slots__ = ("_catalog", "_message")

    def __init__(self, catalog: Catalog, message: str) -> None:
        self._catalog = catalog
        self._message = message

    def __str__(self) -> str:
        return self._catalog.gettext(self._message)

    def __repr__(self) -> str:
        return f"LazyText({self._message!r})"

    def __getattr__(self, name: str) -> Any:  # str methods: split, expandtabs, format...
        return getattr(str(self), name)

    def __len__(self) -> int:
        return len(str(self))

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __iter__(self) -> Iterator[str]:
        return iter(str(self))

    def __getitem__(self, index: Any) -> str:
        return str(self)[index]

    def __eq__(self, other: object) -> bool:
        return str(self) == (str(other) if isinstance(other, LazyText) else other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __add__(self, other: str) -> str:
        return str(self) + other

    def __radd__(self, other: str) -> str:
        return other + str(self)

    def __mod__(self, values: Any) -> str:
        return str(self) % values

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


_module_catalogs: dict[str, Catalog] = {}


def module_catalog(module: str) -> Catalog:
    """The catalog of the package ``module`` belongs to (``segur_ins.plugin`` ->
    ``segur_ins``), found without importing the package; an empty one when it has none."""
    import importlib.util

    package = module.partition(".")[0].partition(":")[0]
    if package not in _module_catalogs:
        try:
            spec = importlib.util.find_spec(package) if package else None
        except (ImportError, ValueError):
            spec = None
        locations = list(spec.submodule_search_locations or ()) if spec is not None else []
        folder = Path(locations[0]) / "locale" if locations else Path("/nonexistent")
        _module_catalogs[package] = Catalog(package, folder)
    return _module_catalogs[package]


def translated_summary(package: str, summary: str) -> str:
    """A distribution's summary (``segur --help`` lists plugin commands by it) through
    the catalog of its ``package`` (``tools/catalogs.py`` adds the summary to it)."""
    return module_catalog(package).gettext(summary) if summary else summary


def help_texts(command: Any) -> Iterator[str]:
    """The help texts of a click command, its options and its subcommands, as click
    shows them (docstrings cleaned): the msgids :func:`localize` looks up."""
    import inspect

    for text in (command.help, command.short_help):
        if text:
            yield inspect.cleandoc(str(text))
    for param in command.params:
        if getattr(param, "help", None):
            yield str(param.help)
    for sub in getattr(command, "commands", {}).values():
        yield from help_texts(sub)


def localize(command: Any, gettext: Callable[[str], str]) -> Any:
    """Translate, in place, the help of a click command (a plugin's: written as
    docstrings and ``help=`` in English, translated by its package's catalog, whose
    msgids ``tools/catalogs.py`` collects with :func:`help_texts`)."""
    import inspect

    if command.help:
        command.help = gettext(inspect.cleandoc(str(command.help)))
    if command.short_help:
        command.short_help = gettext(inspect.cleandoc(str(command.short_help)))
    for param in command.params:
        if getattr(param, "help", None):
            param.help = gettext(str(param.help))
    for sub in getattr(command, "commands", {}).values():
        localize(sub, gettext)
    return command


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it: a name kept as it is
    in ``--json`` (a doctor check's name) and translated where it is shown."""
    return message


_core = Catalog("segur_core", Path(__file__).resolve().parent / "locale")
_ = _core.gettext
_l = _core.lazy
ngettext = _core.ngettext

_click = Catalog("click", Path(__file__).resolve().parent / "locale")
#: click's modules that translate their words through stdlib gettext.
_CLICK_MODULES = (
    "_termui_impl",
    "core",
    "decorators",
    "exceptions",
    "formatting",
    "parser",
    "shell_completion",
    "termui",
    "types",
)


def install_click() -> None:
    """Translate click's own words ("Usage:", "Options", "Missing argument"…) with
    segur's click catalog, so that a French run has no English left by click. click
    calls ``gettext.gettext`` through a module-level name in each of its modules;
    those names (and only those still bound to the stdlib's) are pointed at the catalog."""
    import sys

    for name in _CLICK_MODULES:
        module: Any = sys.modules.get(f"click.{name}")
        if module is None:  # not imported by this run (import costs start-up time)
            continue
        if getattr(module, "_", None) is _gettext.gettext:
            module._ = _click.gettext
        if getattr(module, "ngettext", None) is _gettext.ngettext:
            module.ngettext = _click.ngettext
