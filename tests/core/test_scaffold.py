"""Plugin names of ``segur new-plugin``: valid ones give importable package names,
everything else is a typed error."""

from __future__ import annotations

import ast
import importlib
import re
import sys
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.version import Version

from segur_core._version import __version__
from segur_core.errors import InputError, RuntimeClosedError
from segur_core.scaffold import create_plugin, plugin_names

VALID = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6}){0,3}", fullmatch=True)


@given(VALID)
def test_valid_names_give_python_identifiers(name):
    names = plugin_names(name)
    assert names["package"].isidentifier()
    assert names["package"] == "segur_" + name.replace("-", "_")
    assert names["distribution"] == f"segur-{name}"
    assert names["class_prefix"].isidentifier()
    assert plugin_names(f"segur-{name}") == names  # the prefix is optional


@given(st.text(max_size=20))
def test_any_text_is_a_name_or_an_input_error(text):
    try:
        names = plugin_names(text)
    except InputError:
        return
    assert re.fullmatch(r"segur_[a-z][a-z0-9_]*", names["package"])


@pytest.mark.parametrize(
    "bad", ["", "9lives", "Upper", "with_underscore", "trailing-", "a--b", "é"]
)
def test_invalid_names(bad):
    with pytest.raises(InputError, match="invalid plugin name"):
        plugin_names(bad)


def test_generated_files(tmp_path):
    root = create_plugin("stock-alert", tmp_path)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "segur_stock_alert/__init__.py",
        "segur_stock_alert/config.py",
        "segur_stock_alert/plugin.py",
        "segur_stock_alert/py.typed",
        "segur_stock_alert/service.py",
        "tests/test_plugin.py",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["readme"] == "README.md" and project["requires-python"] == ">=3.11"
    (core,) = [Requirement(r) for r in project["dependencies"]]
    assert core.name == "segur-core" and core.specifier.contains(__version__)
    current = Version(__version__)
    assert not core.specifier.contains(f"{current.major}.{current.minor + 1}")  # bounded
    config = (root / "segur_stock_alert" / "config.py").read_text()
    assert "class StockAlertConfig" in config
    plugin = (root / "segur_stock_alert" / "plugin.py").read_text()
    assert '"segur_stock_alert.config:StockAlertConfig"' in plugin
    service = (root / "segur_stock_alert" / "service.py").read_text()
    for text in (config, plugin, service):
        assert "$" not in text  # every template placeholder was substituted
        compile(text, "module.py", "exec")
    compile((root / "tests" / "test_plugin.py").read_text(), "test_plugin.py", "exec")


def test_generated_plugin_keeps_no_state_in_module_globals(tmp_path):
    """docs/writing-plugins.md: per-runtime state is a runtime service, never a module
    global; the only names the plugin module assigns are constants."""
    root = create_plugin("stock-alert", tmp_path)
    tree = ast.parse((root / "segur_stock_alert" / "plugin.py").read_text())
    assigned = [
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    ]
    assert assigned == ["NAME"]
    assert "runtime.service(NAME" in (root / "segur_stock_alert" / "plugin.py").read_text()


def test_generated_service_lives_and_dies_with_the_runtime(
    tmp_path, monkeypatch, make_segur_runtime
):
    root = create_plugin("stock-alert", tmp_path)
    monkeypatch.syspath_prepend(str(root))
    try:
        plugin = importlib.import_module("segur_stock_alert.plugin")
        runtime = make_segur_runtime(
            extra_plugins=[plugin], config={"stock-alert": {"greeting": "salut"}}
        )
        service = plugin.service(runtime)
        assert plugin.service(runtime) is service
        assert service.greet() == "salut from the stock-alert plugin"
        runtime.close()
        assert service.closed
        with pytest.raises(RuntimeClosedError):
            plugin.service(runtime)
    finally:
        for name in [m for m in sys.modules if m.startswith("segur_stock_alert")]:
            del sys.modules[name]
