"""Plugin names of ``segur new-plugin``: valid ones give importable package names,
everything else is a typed error."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segur_core.errors import InputError
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
        "tests/test_plugin.py",
    ]
    config = (root / "segur_stock_alert" / "config.py").read_text()
    assert "class StockAlertConfig" in config
    plugin = (root / "segur_stock_alert" / "plugin.py").read_text()
    assert '"segur_stock_alert.config:StockAlertConfig"' in plugin
    for text in (config, plugin):
        assert "$" not in text  # every template placeholder was substituted
        compile(text, "module.py", "exec")
    compile((root / "tests" / "test_plugin.py").read_text(), "test_plugin.py", "exec")
