"""Every package of the workspace ships ``py.typed`` in its wheel (PEP 561), so that a
host's type checker reads segur's annotations."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_every_wheel_marks_its_packages_typed(tmp_path):
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: it builds the workspace's wheels")
    done = subprocess.run(
        [uv, "build", "--wheel", "--all-packages", "--out-dir", str(tmp_path), "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    wheels = sorted(tmp_path.glob("*.whl"))
    members = {path.parent.name for path in ROOT.glob("plugins/*/pyproject.toml")}
    assert len(wheels) == len(members) + 1, [w.name for w in wheels]  # and segur-core
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
