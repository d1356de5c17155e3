"""Lazy package exports: names import on first use, unknown names fail clearly."""

from __future__ import annotations

import subprocess
import sys

import pytest

from segur_core.lazy import lazy_exports


def test_a_name_is_imported_on_first_use_and_cached() -> None:
    namespace: dict[str, object] = {}
    getattr_, dir_ = lazy_exports("pkg", {"dumps": "json"}, namespace)
    assert "dumps" in dir_()
    import json

    assert getattr_("dumps") is json.dumps
    assert namespace["dumps"] is json.dumps


def test_an_unknown_name_is_an_attribute_error() -> None:
    getattr_, _ = lazy_exports("pkg", {}, {})
    with pytest.raises(AttributeError, match="module 'pkg' has no attribute 'nope'"):
        getattr_("nope")


@pytest.mark.parametrize(
    ("plugin", "heavy"),
    [("segur_vitale.plugin", "segur_vitale.apdu"), ("segur_ins.plugin", "httpx")],
)
def test_loading_a_plugin_does_not_import_its_heavy_modules(plugin: str, heavy: str) -> None:
    code = f"import sys, {plugin}; print({heavy!r} in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
