"""The wheels a user installs: every package of the workspace ships ``py.typed`` (PEP 561,
so that a host's type checker reads segur's annotations), its licence, readme and
classifiers, bounds the segur packages it needs, and — installed in a fresh virtual
environment without the workspace — lists its plugins, passes ``doctor`` and runs a demo."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = sorted(path.parent.name for path in ROOT.glob("plugins/*/pyproject.toml"))


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: it builds the workspace's wheels")
    return uv


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> list[Path]:
    """Every wheel of the workspace, built once for this module from its sdist, as a
    release builds them (a file the sdist misses is missing from the wheel too)."""
    out = tmp_path_factory.mktemp("wheels")
    done = subprocess.run(
        [_uv(), "build", "--all-packages", "--out-dir", str(out), "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    built = sorted(out.glob("*.whl"))
    assert len(built) == len(MEMBERS) + 1, [w.name for w in built]  # and segur-core
    assert len(list(out.glob("*.tar.gz"))) == len(built)
    return built


def _metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return HeaderParser().parsestr(archive.read(name).decode("utf-8"))


def test_every_wheel_marks_its_packages_typed(wheels):
    packages: dict[str, list[str]] = {}
    for wheel in wheels:
        names = zipfile.ZipFile(wheel).namelist()
        tops = sorted(
            {n.split("/")[0] for n in names if n.count("/") == 1 and n.endswith("/__init__.py")}
        )
        packages[wheel.name] = tops
        missing = [top for top in tops if f"{top}/py.typed" not in names]
        assert tops and not missing, f"{wheel.name} ships no py.typed for {missing}"
    core = next(tops for name, tops in packages.items() if name.startswith("segur_core-"))
    assert core == ["hostspecs", "segur_core"]


def test_every_wheel_carries_its_compiled_message_catalogs(wheels):
    """The .mo files are committed and shipped: an installed segur speaks French too."""
    for wheel in wheels:
        names = set(zipfile.ZipFile(wheel).namelist())
        tops = {n.split("/")[0] for n in names if n.count("/") == 1 and n.endswith("/i18n.py")}
        assert tops, f"{wheel.name} has no message catalog"
        for top in tops:
            domains = [top, "click"] if top == "segur_core" else [top]
            for lang in ("en", "fr"):
                for domain in domains:
                    mo = f"{top}/locale/{lang}/LC_MESSAGES/{domain}.mo"
                    assert mo in names, f"{wheel.name} lacks {mo}"


def test_every_wheel_carries_licence_readme_classifiers_and_bounds(wheels):
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    for wheel in wheels:
        meta = _metadata(wheel)
        where = wheel.name
        assert meta["License-Expression"] == "Apache-2.0", where
        with zipfile.ZipFile(wheel) as archive:
            shipped = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
            assert shipped, f"{where} ships no LICENSE"
            assert archive.read(shipped[0]).decode("utf-8") == licence, where
        assert meta["Requires-Python"] == ">=3.11", where
        assert meta["Description-Content-Type"] == "text/markdown", where
        assert meta.get_payload().strip(), f"{where} has no readme"
        classifiers = meta.get_all("Classifier") or []
        assert "Intended Audience :: Healthcare Industry" in classifiers, where
        assert any(c.startswith("Programming Language :: Python :: 3") for c in classifiers)
        for line in meta.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if not canonicalize_name(requirement.name).startswith("segur-"):
                continue
            if requirement.marker is not None:  # an extra: the dependency itself bounds it
                continue
            # a bounded range: the next minor release of the segur packages may break
            assert requirement.specifier == SpecifierSet(">=0.1,<0.2"), f"{where}: {line}"


@pytest.fixture(scope="module")
def installed(wheels, tmp_path_factory) -> Path:
    """A fresh virtual environment holding the wheels (with their ``sandbox`` extras where
    they have one) and nothing of the workspace; its third-party dependencies come from
    the package index, through uv's cache."""
    uv = _uv()
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    done = subprocess.run(
        [uv, "venv", "-q", "--python", python, str(venv)],
        capture_output=True, text=True, timeout=120, env=_clean_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    targets = []
    for wheel in wheels:
        extras = _metadata(wheel).get_all("Provides-Extra") or []
        targets.append(f"{wheel}[sandbox]" if "sandbox" in extras else str(wheel))
    done = subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *targets],
        capture_output=True, text=True, timeout=300, env=_clean_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


def _clean_env() -> dict[str, str]:
    """The environment without the workspace's virtualenv, path or segur settings."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"}
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("SEGUR_")}


def _segur(venv: Path, cwd: Path, *args: str) -> dict:
    done = subprocess.run(
        [str(venv / "bin" / "segur"), *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=_clean_env(),
    )  # fmt: skip
    assert done.returncode == 0, f"segur {' '.join(args)}: {done.stdout}{done.stderr}"
    return json.loads(done.stdout)


def _readme_install() -> dict[str, str]:
    """The README's "Installing without the workspace" commands: the wheel files it names
    and the segur.toml it writes."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Installing without the workspace", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    config = re.search(r"printf '(.+?)' > segur.toml", block)
    assert config, block
    return {
        "wheels": " ".join(re.findall(r"dist/([\w.-]+\.whl)", block)),
        "segur.toml": config.group(1).encode().decode("unicode_escape"),
    }


def test_the_readme_installs_wheels_the_build_makes(wheels):
    named = _readme_install()["wheels"].split()
    assert named, "the README's install section names no wheel"
    assert set(named) <= {wheel.name for wheel in wheels}, named


def test_the_installed_wheels_run_without_the_workspace(installed, tmp_path):
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import segur_core, segur_ins;"
         "print(segur_core.__file__); print(segur_ins.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, env=_clean_env(),
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    for path in where.stdout.split():
        assert Path(path).is_relative_to(installed), f"imported from {path}, not the wheel"

    listed = _segur(installed, tmp_path, "plugins", "--json")["plugins"]
    assert sorted(p["distribution"] for p in listed) == MEMBERS
    assert all(p["status"] == "loaded" and p["error"] is None for p in listed), listed

    french = subprocess.run(
        [str(installed / "bin" / "segur"), "ins", "--help"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**_clean_env(), "LANG": "fr_FR.UTF-8", "LC_ALL": "", "LANGUAGE": ""},
    )  # fmt: skip
    assert "Commandes" in french.stdout and "Identités INS" in french.stdout, french.stdout

    report = _segur(installed, tmp_path, "doctor", "--json")
    assert report["ok"] is True, report
    loaded = {c["plugin"] for c in report["checks"] if c["check"] == "plugin"}
    assert loaded == {p["name"] for p in listed}
    assert not [c for c in report["checks"] if c["result"] in {"error", "failed"}], report

    # the INSi scenario alone, configured as the README's install section says
    (tmp_path / "segur.toml").write_text(_readme_install()["segur.toml"], encoding="utf-8")
    demo = _segur(installed, tmp_path, "--config", "segur.toml", "demo", "--json")
    assert demo["ok"] is True, demo["steps"]
    started = next(e for e in demo["timeline"] if "plugins" in e)
    assert started["plugins"] == ["ins"]
    steps = [(s["plugin"], s["status"]) for s in demo["steps"]]
    assert {plugin for plugin, _ in steps} == {"segur", "ins"}, steps
    assert all(status == "ok" for _, status in steps), steps
    assert any(e.get("status") == "RECUP" for e in demo["timeline"])  # INSi answered


def test_the_project_documents_its_changes_and_how_to_contribute():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "keepachangelog.com" in changelog
    unreleased = changelog.split("## [Unreleased]", 1)[1].split("\n## ", 1)[0]
    headings = re.findall(r"^### (\w+)$", unreleased, flags=re.MULTILINE)
    allowed = ["Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"]
    assert headings and headings == [h for h in allowed if h in headings], headings
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", contributing, flags=re.DOTALL))
    # the paths and commands it tells a contributor to run exist here
    for path in re.findall(r"uv run pytest ((?:plugins|tests)/[\w/-]+)", blocks):
        if "loyalty-card" not in path:  # created by the new-plugin line above it
            assert (ROOT / path).is_dir(), path
    for tool in re.findall(r"uv run ([\w-]+)", blocks):
        assert shutil.which(tool, path=str(Path(sys.executable).parent)), tool
