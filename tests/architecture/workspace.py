"""The workspace as its pyproject files describe it: the projects, their packages and the
distributions they declare (dependencies and extras)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def read(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def pyprojects(workspace: Path = ROOT) -> list[Path]:
    """The root project's pyproject.toml, then each plugin's."""
    return [workspace / "pyproject.toml", *sorted(workspace.glob("plugins/*/pyproject.toml"))]


def packages(project: dict) -> list[str]:
    """The import packages a project's wheel ships."""
    return list(project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])


def requirements(project: dict) -> set[str]:
    """Every distribution a project names, in its dependencies or any of its extras."""
    table = project["project"]
    lines = list(table.get("dependencies", []))
    for extra in table.get("optional-dependencies", {}).values():
        lines.extend(extra)
    return {canonicalize_name(Requirement(line).name) for line in lines}
