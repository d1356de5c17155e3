"""``segur new-plugin NAME``: a new plugin package, ready to install and test.

The template (``template/``) gives a distribution ``segur-NAME`` with an entry point in
group ``segur``, a package ``segur_NAME`` with a plugin module (info, one event hook, a
CLI command and a demo step), its config class in a module of its own (named lazily by
``PluginInfo.config_class``, so that loading the plugin stays light), its per-runtime
service (made and closed by ``runtime.service``, no module globals) and tests that pass
as generated.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from string import Template

from segur_core._version import __version__
from segur_core.errors import InputError

__all__ = ["create_plugin", "plugin_names"]

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
#: Longest plugin name: it becomes folder, package and distribution names.
MAX_NAME = 64

#: Template file -> path in the new package (``{package}`` is replaced).
_FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "package/__init__.py.tmpl": "{package}/__init__.py",
    "package/config.py.tmpl": "{package}/config.py",
    "package/plugin.py.tmpl": "{package}/plugin.py",
    "package/service.py.tmpl": "{package}/service.py",
    "package/py.typed.tmpl": "{package}/py.typed",
    "tests/test_plugin.py.tmpl": "tests/test_plugin.py",
}


def plugin_names(name: str) -> dict[str, str]:
    """The names derived from a plugin name (``my-thing``): distribution
    ``segur-my-thing``, package ``segur_my_thing``, entry point ``my-thing``."""
    name = name.removeprefix("segur-")
    if not _NAME.match(name) or len(name) > MAX_NAME:
        raise InputError(
            f"invalid plugin name {name[:MAX_NAME]!r}" + ("…" if len(name) > MAX_NAME else ""),
            hint=f"use lowercase letters, digits and dashes, starting with a letter, "
            f"at most {MAX_NAME} characters",
        )
    package = "segur_" + name.replace("-", "_")
    title = name.replace("-", " ").title().replace(" ", "")
    major, minor = __version__.split(".")[:2]
    return {
        "name": name,
        "distribution": f"segur-{name}",
        "package": package,
        "class_prefix": title,
        "core_version": __version__,
        "core_major_minor": f"{major}.{minor}",
        "core_next_minor": f"{major}.{int(minor) + 1}",
    }


def create_plugin(name: str, directory: str | Path) -> Path:
    """Write a new plugin package under ``directory/segur-NAME``; return its folder.

    Refuses to overwrite an existing folder.
    """
    names = plugin_names(name)
    root = Path(directory) / names["distribution"]
    if root.exists():
        raise InputError(f"{root} already exists", hint="choose another name or --dir")
    template = files(__package__).joinpath("template")
    for source, target in _FILES.items():
        text = Template(template.joinpath(source).read_text(encoding="utf-8"))
        path = root / target.format(**names)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.substitute(names), encoding="utf-8")
    return root
