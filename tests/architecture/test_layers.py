"""Imports go one way, checked by import-linter with the contracts of ``pyproject.toml``.

The contracts between packages are derived from the workspace's pyproject files: the
root project's packages (the core first, then ``hostspecs``) and each plugin's packages
and declared dependencies. :func:`expected_contracts` derives them; the root
``pyproject.toml`` must hold exactly those (a new plugin, or a plugin declaring another,
makes this test print the block to paste), followed by the core's own layers, written by
hand; ``lint-imports`` must keep them all. A fixture workspace with
one deliberate violation per contract proves each kind of contract fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from .workspace import ROOT, read, requirements
from .workspace import packages as wheel_packages


def expected_contracts(workspace: Path) -> tuple[list[str], list[dict]]:
    """The root packages and the contracts the workspace's pyproject files imply.

    - the first package of the root project is the core, at the bottom; the root
      project's other packages (``hostspecs``) and every plugin sit above it;
    - no import cycle between the modules of any package, at any depth;
    - the root project's upper packages and the plugins do not import each other;
    - a plugin imports another plugin only when its pyproject declares it (a dependency
      or an extra).
    """
    root = read(workspace / "pyproject.toml")
    core, *upper = wheel_packages(root)
    plugins: dict[str, tuple[list[str], set[str]]] = {}
    for path in sorted((workspace / "plugins").glob("*/pyproject.toml")):
        project = read(path)
        name = canonicalize_name(project["project"]["name"])
        plugins[name] = (wheel_packages(project), requirements(project))
    plugin_packages = sorted(p for packages, _ in plugins.values() for p in packages)
    everything = sorted([core, *upper, *plugin_packages])
    contracts: list[dict] = [
        {
            "id": "layers",
            "name": f"{core} at the bottom; {', '.join(upper)} and the plugins above it",
            "type": "layers",
            "layers": [" : ".join(sorted([*upper, *plugin_packages])), core],
        },
        {
            "id": "no-cycles",
            "name": "no import cycle between the modules of a package",
            "type": "acyclic_siblings",
            "ancestors": everything,
        },
    ]
    for package in upper:
        contracts.append(
            {
                "id": package,
                "name": f"{package} imports no plugin",
                "type": "forbidden",
                "source_modules": [package],
                "forbidden_modules": plugin_packages,
            }
        )
    for name, (packages, declared) in sorted(plugins.items()):
        undeclared = sorted(
            p for other, (others, _) in plugins.items() if other != name and other not in declared
            for p in others
        )  # fmt: skip
        contracts.append(
            {
                "id": name,
                "name": f"{name} imports only the plugins its pyproject.toml declares",
                "type": "forbidden",
                "source_modules": sorted(packages),
                "forbidden_modules": sorted([*upper, *undeclared]),
                # a declared plugin's own dependencies come with it: only direct imports count
                "allow_indirect_imports": True,
            }
        )
    return everything, contracts


def render(root_packages: list[str], contracts: list[dict]) -> str:
    """The ``[tool.importlinter]`` TOML of these contracts (what pyproject.toml holds)."""
    lines = [
        "[tool.importlinter]",
        f"root_packages = {_toml(root_packages)}",
        "exclude_type_checking_imports = true",
    ]
    for contract in contracts:
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{key} = {_toml(value)}" for key, value in contract.items()]
    return "\n".join(lines) + "\n"


def _toml(value: bool | str | list[str]) -> str:
    """A boolean, a string or a list of strings in TOML, one item per line when it is long."""
    text = json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return text
    if isinstance(value, str) or len(text) <= 80:
        return text
    return "[\n" + "".join(f"    {json.dumps(item, ensure_ascii=False)},\n" for item in value) + "]"


def lint_imports(config: Path, *, path: list[Path] = ()) -> subprocess.CompletedProcess[str]:
    """Run the ``lint-imports`` command of this environment on ``config``."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command is not None, "import-linter is not installed (the dev group has it)"
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = os.pathsep.join([*map(str, path), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [command, str(config), "--no-cache", "--no-logo"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


# -- the workspace ----------------------------------------------------------------------------


def test_pyproject_holds_the_contracts_the_pyproject_files_imply():
    packages, contracts = expected_contracts(ROOT)
    config = read(ROOT / "pyproject.toml")["tool"]["importlinter"]
    expected = render(packages, contracts)
    assert sorted(config["root_packages"]) == packages, expected
    assert config.get("exclude_type_checking_imports") is True, expected
    derived = {contract["id"] for contract in contracts}
    held = [contract for contract in config["contracts"] if contract["id"] in derived]
    assert held == contracts, (
        "the derived [tool.importlinter] contracts of pyproject.toml differ from what the"
        " plugins' pyproject files declare; replace them with:\n\n" + expected
    )
    by_hand = [c["id"] for c in config["contracts"] if c["id"] not in derived]
    assert by_hand == ["core-layers"], by_hand  # written by hand, after the derived ones


def test_the_workspace_keeps_every_contract():
    done = lint_imports(ROOT / "pyproject.toml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout, done.stdout


# -- a fixture workspace, one violation at a time -----------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def _workspace(base: Path, violation: str | None) -> tuple[Path, list[Path]]:
    """A core (``layfix_core``), a reference host (``layfix_host``) and two plugins:
    ``layfix_b`` declares ``layfix-a`` and imports it. ``violation`` adds one import
    that breaks one contract."""
    ws = base / "ws"
    _write(
        ws / "pyproject.toml",
        """
        [project]
        name = "layfix-core"
        [tool.hatch.build.targets.wheel]
        packages = ["layfix_core", "layfix_host"]
        """,
    )
    for dist, package, deps in (
        ("layfix-a", "layfix_a", ["layfix-core"]),
        ("layfix-b", "layfix_b", ["layfix-core", "layfix-a"]),
    ):
        _write(
            ws / "plugins" / dist / "pyproject.toml",
            f"""
            [project]
            name = "{dist}"
            dependencies = {json.dumps(deps)}
            [tool.hatch.build.targets.wheel]
            packages = ["{package}"]
            """,
        )
    files = {
        "layfix_core/__init__.py": "",
        "layfix_core/model.py": "",
        "layfix_core/runtime.py": "from layfix_core import model\n",
        "layfix_host/__init__.py": "from layfix_core import model\n",
        "plugins/layfix-a/layfix_a/__init__.py": "",
        "plugins/layfix-a/layfix_a/lookup.py": "from layfix_core import model\n",
        "plugins/layfix-a/layfix_a/service.py": "from layfix_a import lookup\n",
        "plugins/layfix-b/layfix_b/__init__.py": "from layfix_a import service\n",
    }
    extra = {
        None: {},
        "core-imports-a-plugin": {"layfix_core/model.py": "import layfix_a\n"},
        "cycle-in-a-plugin": {
            "plugins/layfix-a/layfix_a/lookup.py": "from layfix_a import service\n"
        },
        "undeclared-plugin": {"plugins/layfix-a/layfix_a/service.py": "import layfix_b\n"},
        "plugin-imports-the-host": {"plugins/layfix-a/layfix_a/service.py": "import layfix_host\n"},
        "host-imports-a-plugin": {"layfix_host/__init__.py": "import layfix_a\n"},
    }[violation]
    for name, text in {**files, **extra}.items():
        existing = files.get(name, "") if name in extra else ""
        _write(ws / name, existing + text)
    packages, contracts = expected_contracts(ws)
    config = ws / "importlinter.toml"
    config.write_text(render(packages, contracts), encoding="utf-8")
    path = [ws, ws / "plugins" / "layfix-a", ws / "plugins" / "layfix-b"]
    return config, path


def test_the_fixture_workspace_keeps_its_contracts(tmp_path):
    config, path = _workspace(tmp_path, None)
    done = lint_imports(config, path=path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 5 kept, 0 broken." in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("violation", "broken"),
    [
        ("core-imports-a-plugin", "layfix_core at the bottom"),
        ("cycle-in-a-plugin", "no import cycle"),
        ("undeclared-plugin", "layfix-a imports only the plugins its pyproject.toml declares"),
        ("plugin-imports-the-host", "layfix-a imports only the plugins"),
        ("host-imports-a-plugin", "layfix_host imports no plugin"),
    ],
)
def test_a_deliberate_violation_breaks_its_contract(tmp_path, violation, broken):
    config, path = _workspace(tmp_path, violation)
    done = lint_imports(config, path=path)
    assert done.returncode == 1, done.stdout + done.stderr
    broken_lines = [line for line in done.stdout.splitlines() if line.endswith(" BROKEN")]
    assert any(line.startswith(broken) for line in broken_lines), done.stdout
