"""Update and compile segur's message catalogs (a development tool; Babel is a dev
dependency, the runtime reads the compiled ``.mo`` files with stdlib gettext).

    uv run python tools/catalogs.py           # extract, merge into the .po files, compile
    uv run python tools/catalogs.py --check   # what the catalog test checks; exit 1 if stale

For each package that marks messages (``segur_core`` and every plugin with an
``i18n.py``): the ``_``/``_l``/``ngettext`` strings of its source are merged into
``<package>/locale/{en,fr}/LC_MESSAGES/<package>.po`` (English entries are filled with
their msgid; French ones are left empty for a translator, or fuzzy when Babel guessed
from a similar message) and compiled next to them. click's own messages are a
``click`` catalog in segur_core (see :func:`segur_core.i18n.install_click`). The ``.mo``
files are committed, so a fresh clone and every wheel have them without a build step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "fr")
KEYWORDS = {"_": None, "_l": None, "N_": None, "ngettext": (1, 2), "gettext": None}
_FIXED_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # stable files: no churn, no conflicts


def packages() -> Iterator[tuple[str, Path, Path]]:
    """``(domain, source folder, package folder)`` of every catalog."""
    yield "segur_core", ROOT / "segur_core", ROOT / "segur_core"
    for i18n in sorted(ROOT.glob("plugins/*/segur_*/i18n.py")):
        yield i18n.parent.name, i18n.parent, i18n.parent
    import click

    yield "click", Path(click.__file__).parent, ROOT / "segur_core"


def template(domain: str, source: Path) -> Catalog:
    """The messages marked in ``source`` (tests excluded)."""
    catalog = Catalog(domain=domain, creation_date=_FIXED_DATE, charset="utf-8")
    keywords = KEYWORDS if domain != "click" else {"_": None, "ngettext": (1, 2)}
    for filename, _lineno, message, comments, context in extract_from_dir(
        str(source),
        method_map=[("**/tests/**", "ignore"), ("**.py", "python")],
        keywords=keywords,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        if domain == "click" and isinstance(message, str) and len(message) <= 1:
            continue  # click's "d" (a date format letter) is no message
        catalog.add(message, None, [(filename, None)], auto_comments=comments, context=context)
    if domain == "segur_core":  # the core commands' help (see segur_core.i18n.localize)
        for text in core_command_helps():
            catalog.add(text, None, [("segur_core/cli (click help)", None)])
    if domain == "click":  # translated from a variable: `_(extra["required"])`
        catalog.add("required", None, [("core.py", None)])
    pyproject = source.parent / "pyproject.toml"
    if domain != "segur_core" and pyproject.is_file():
        project = tomllib.loads(pyproject.read_text())["project"]
        if project.get("description"):  # `segur --help` shows the summary
            catalog.add(project["description"], None, [("pyproject.toml", None)])
        for module in project.get("entry-points", {}).get("segur", {}).values():
            for text in command_helps(module):
                catalog.add(text, None, [(f"{module} (click help)", None)])
    return catalog


def core_command_helps() -> list[str]:
    """The help texts of the core commands (the core translates them when it loads one)."""
    import importlib

    from segur_core.cli import CORE_COMMANDS
    from segur_core.i18n import help_texts, set_language

    set_language("en")
    texts = []
    for module_name in CORE_COMMANDS.values():
        command = getattr(importlib.import_module(module_name), "command", None)
        if command is not None:
            texts += help_texts(command)
    return texts


def command_helps(module_name: str) -> list[str]:
    """The help texts of the commands a plugin module adds (docstrings and ``help=``:
    the core translates them with the plugin's catalog, see segur_core.i18n.localize)."""
    import importlib

    import click

    from segur_core.i18n import help_texts, set_language

    set_language("en")
    module = importlib.import_module(module_name)
    hook = getattr(module, "segur_cli_commands", None)
    if hook is None:
        return []
    collector = click.Group("segur")
    hook(collector)
    return [text for command in collector.commands.values() for text in help_texts(command)]


def _po_path(package: Path, domain: str, lang: str) -> Path:
    return package / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"


def merged(domain: str, source: Path, package: Path, lang: str) -> Catalog:
    """The ``lang`` catalog of ``domain`` brought up to date with the source."""
    path = _po_path(package, domain, lang)
    if path.is_file():
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang, domain=domain)
    else:
        catalog = Catalog(locale=lang, domain=domain)
    catalog.creation_date = _FIXED_DATE
    catalog.revision_date = _FIXED_DATE
    catalog.project, catalog.version = "segur", "0"
    catalog.update(template(domain, source), no_fuzzy_matching=lang == "en")
    catalog.obsolete.clear()
    if lang == "en":  # the msgids are English
        for message in catalog:
            if message.id and (not all(_strings(message)) or message.fuzzy):
                message.string = message.id
                message.flags.discard("fuzzy")
    return catalog


def _strings(message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, tuple | list) else (string,)


def rendered(catalog: Catalog) -> tuple[bytes, bytes]:
    """The ``.po`` and ``.mo`` bytes of ``catalog``."""
    po, mo = io.BytesIO(), io.BytesIO()
    write_po(po, catalog, width=100, sort_output=True, include_lineno=False, omit_header=True)
    write_mo(mo, catalog, use_fuzzy=False)
    return po.getvalue(), mo.getvalue()


def problems(catalog: Catalog) -> list[str]:
    """Messages without a translation (empty or fuzzy) in ``catalog``."""
    found = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy or not all(_strings(message)):
            fuzzy = " (fuzzy)" if message.fuzzy else ""
            found.append(f"{catalog.locale}: {message.id!r}{fuzzy}")
    return found


def run(check: bool) -> int:
    stale, untranslated = [], []
    for domain, source, package in packages():
        for lang in LANGUAGES:
            catalog = merged(domain, source, package, lang)
            po_bytes, mo_bytes = rendered(catalog)
            po = _po_path(package, domain, lang)
            mo = po.with_suffix(".mo")
            untranslated += [f"{po.relative_to(ROOT)}: {p}" for p in problems(catalog)]
            for path, data in ((po, po_bytes), (mo, mo_bytes)):
                if path.is_file() and path.read_bytes() == data:
                    continue
                stale.append(str(path.relative_to(ROOT)))
                if not check:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
    for line in untranslated:
        print(f"untranslated: {line}")
    for line in stale:
        print(f"{'stale' if check else 'written'}: {line}")
    return 1 if (untranslated or (check and stale)) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    return run(parser.parse_args(argv).check)


if __name__ == "__main__":
    sys.exit(main())
