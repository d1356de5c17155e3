"""One language per run: the catalogs are complete, the language comes from the locale,
and a run's screens are in that language alone (click's words included)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from segur_core.i18n import Catalog, LazyText, resolve_language

ROOT = Path(__file__).resolve().parents[2]


def _catalogs_tool():
    spec = importlib.util.spec_from_file_location("catalogs", ROOT / "tools" / "catalogs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_message_has_a_french_and_an_english_entry_and_is_compiled(capsys):
    """Every msgid marked in the source is in the French and English catalogs of its
    package, translated, not fuzzy, and the committed .mo files are the compiled .po."""
    tool = _catalogs_tool()
    status = tool.run(check=True)
    assert status == 0, capsys.readouterr().out
    domains = {domain for domain, _source, _package in tool.packages()}
    assert {"segur_core", "click", "segur_ins", "segur_documents", "segur_dmp"} <= domains


def test_the_wheel_carries_the_compiled_catalogs():
    """The .mo files live in the package (hatch ships every package file), not built."""
    for lang in ("en", "fr"):
        folder = ROOT / "segur_core" / "locale" / lang / "LC_MESSAGES"
        for domain in ("segur_core", "click"):
            assert (folder / f"{domain}.mo").is_file()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "C.UTF-8", "LANGUAGE": "fr"}, "en"),  # GNU: LANGUAGE ignored under C
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
        ({"LC_ALL": "fr_CA.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
        ({"LC_MESSAGES": "fr_FR", "LANG": "en_US.UTF-8"}, "fr"),
        ({"LANGUAGE": "de:fr", "LANG": "en_US.UTF-8"}, "fr"),
        ({"LANGUAGE": "en", "LANG": "fr_FR.UTF-8"}, "en"),
        ({"SEGUR_LANG": "en", "LANG": "fr_FR.UTF-8"}, "en"),
        ({"SEGUR_LANG": "fr", "LANG": "C"}, "fr"),
        ({"SEGUR_LANG": "xx", "LANG": "fr_FR.UTF-8"}, "fr"),
    ],
)
def test_the_language_comes_from_the_locale(environ, expected):
    assert resolve_language(environ) == expected


def test_lazy_text_is_translated_when_used(tmp_path):
    catalog = Catalog("segur_core", ROOT / "segur_core" / "locale", register=False)
    text = LazyText(catalog, "Print JSON for machines.")
    assert str(text) == catalog.gettext("Print JSON for machines.")
    assert text.split()[0] in {"Print", "Afficher"}
    assert text + "!" == str(text) + "!"
    assert "JSON" in text


# --- screens of a whole run ---------------------------------------------------------------

#: Words that give an English screen away, and French ones (whole words, case-sensitive).
ENGLISH = {"the", "and", "Show", "Print", "with", "not", "List", "Usage:", "Error:", "Commands"}
FRENCH = {"les", "des", "Afficher", "pour", "avec", "Erreur", "Commandes", "Lister"}
#: Official or proper names shown as they are in both languages.
KEPT = ("Ségur du numérique",)


#: Plays each screen in one process of the run's language (one start-up per language).
_PLAYER = """
import json, sys
from click.testing import CliRunner
from segur_core.cli import cli

def demo_step_titles():
    from segur_core.runtime import create_runtime
    with create_runtime({"segur": {"mode": "test"}}, data_dir="data") as runtime:
        steps = runtime.pm.hook.segur_demo_steps(runtime=runtime)
        return "\\n".join(step.title for group in steps for step in group)

runner = CliRunner()
outputs = [demo_step_titles() if args == [DEMO_STEPS] else
           runner.invoke(cli, args, prog_name="segur", terminal_width=200).output
           for args in json.loads(sys.argv[1])]
print(json.dumps(outputs))
"""
#: A screen of the player: the titles of the plugins' demo steps.
DEMO_STEPS = "@demo-steps"


def _run(
    tmp_path: Path, lang: dict[str, str], screens: list[tuple[str, ...]], plugins: bool = False
) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "SEGUR_"))}
    env.update(lang)
    if not plugins:
        env["SEGUR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", f"DEMO_STEPS = {DEMO_STEPS!r}\n" + _PLAYER, json.dumps(screens)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def _words(text: str) -> set[str]:
    for kept in KEPT:
        text = text.replace(kept, "")
    return set(re.findall(r"[\w:]+", text))


def _untranslated(text: str, lang: str) -> list[str]:
    """msgids of the French catalogs shown as they are in a French screen."""
    from babel.messages.pofile import read_po

    found = []
    for po in [*ROOT.glob("segur_core/locale/fr/LC_MESSAGES/*.po"), *ROOT.glob(PLUGIN_POS)]:
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        for message in catalog:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for msgid in ids:
                if not msgid or msgid in strings:
                    continue
                fragment = max(re.split(r"\{[^}]*\}|%\(\w+\)s", msgid), key=len).strip()
                if len(fragment) >= 12 and fragment in text:
                    found.append(msgid)
    return found


PLUGIN_POS = "plugins/*/segur_*/locale/fr/LC_MESSAGES/*.po"
CORE_SCREENS = [
    ("--help",),
    ("doctor", "--help"),
    ("audit", "show", "--help"),
    ("outbox", "list", "--bogus"),  # click's usage error
    ("outbox", "purge", "--older-than", "yesterday"),  # our BadParameter
    ("audit", "show", "--since", "hier"),
    ("nosuchcommand",),
]


def test_a_french_run_shows_french_alone(tmp_path):
    outputs = _run(tmp_path, {"LANG": "fr_FR.UTF-8"}, CORE_SCREENS)
    for args, out in zip(CORE_SCREENS, outputs, strict=True):
        assert out.strip(), args
        assert not _words(out) & ENGLISH, (args, out)
        assert not _untranslated(out, "fr"), (args, out)


@pytest.mark.parametrize("locale", ["en_US.UTF-8", "C"])
def test_an_english_run_shows_english_alone(tmp_path, locale):
    outputs = _run(tmp_path, {"LANG": locale}, CORE_SCREENS)
    for args, out in zip(CORE_SCREENS, outputs, strict=True):
        assert out.strip(), args
        assert not _words(out) & FRENCH, (args, out)


def test_segur_lang_overrides_the_locale(tmp_path):
    [french] = _run(tmp_path, {"LANG": "en_US.UTF-8", "SEGUR_LANG": "fr"}, [("--help",)])
    assert "Commandes" in french and "Commands" not in french


#: Every plugin's command help, the list of commands with their summaries, and a usage
#: error inside a plugin command.
PLUGIN_SCREENS = [
    ("--help",),
    *((name, "--help") for name in ("ins", "vitale", "cda", "dmp", "mss", "dp", "example")),
    ("eprescription", "--help"),
    ("vitale", "manual", "--help"),
    ("ins", "qualify", "--help"),
    ("dmp", "list", "--help"),
    ("ins", "check"),  # missing argument
    ("ins", "check", "1 85 05 99 352 123 66"),  # a NIR born abroad
    ("ins", "check", "1 85 05 99 352 123 67"),  # a wrong key: the typed error
    ("doctor",),
    (DEMO_STEPS,),
]


@pytest.mark.parametrize("locale", ["fr_FR.UTF-8", "C"])
def test_plugin_screens_are_in_the_run_language(tmp_path, locale):
    outputs = _run(tmp_path, {"LANG": locale}, PLUGIN_SCREENS, plugins=True)
    for args, out in zip(PLUGIN_SCREENS, outputs, strict=True):
        assert out.strip(), args
        if locale == "C":
            assert not _words(out) & FRENCH, (args, out)
        else:
            assert not _words(out) & ENGLISH, (args, out)
            assert not _untranslated(out, "fr"), (args, out)
