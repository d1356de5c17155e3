"""Fixtures of the core tests: real distributions with ``segur`` entry points, written
into a temporary folder put on ``sys.path`` (what ``pip install`` would leave behind)."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """``fake_dist(entry_point_name, source, version="1.0")`` installs a one-module
    distribution whose entry point (group ``segur``) is that module; returns the
    module name. Autoload is enabled and narrowed to the fake plugins via
    ``SEGUR_PLUGINS`` so that the plugins installed in the workspace stay out."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("SEGUR_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    names: list[str] = []
    modules: list[str] = []

    def make(entry_point: str, source: str, version: str = "1.0") -> str:
        module = f"fake_{entry_point.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        dist = f"fake-{entry_point}"
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[segur]\n{entry_point} = {module}\n", encoding="utf-8"
        )
        names.append(entry_point)
        modules.append(module)
        monkeypatch.setenv("SEGUR_PLUGINS", ",".join(names))
        importlib.invalidate_caches()
        return module

    yield make
    for module in modules:
        sys.modules.pop(module, None)
