"""docs/hooks.md documents every hook, and only hooks that exist."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from segur_core import hookspecs
from segur_core.host import hookspecs as host_hookspecs
from segur_core.testing.plugin import assert_hookimpls_match_specs

DOC = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"


def spec_functions():
    for module in (hookspecs, host_hookspecs):
        for name, value in vars(module).items():
            if inspect.isfunction(value) and hasattr(value, "segur_spec"):
                yield name, value


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### `([a-z_]+)`\s*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_there_are_hooks_to_document():
    names = [name for name, _ in spec_functions()]
    assert "on_card_read" in names and "host_decide" in names
    assert len(names) >= 30


@pytest.mark.parametrize(("name", "spec"), list(spec_functions()), ids=lambda v: str(v)[:40])
def test_hook_is_documented(name, spec):
    documented = sections()
    assert name in documented, f"hook {name} is not documented in docs/hooks.md"
    section = documented[name]
    for argument in inspect.signature(spec).parameters:
        assert f"`{argument}`" in section or f"{argument}:" in section, (
            f"docs/hooks.md: section {name} does not mention argument {argument!r}"
        )
    assert "versionadded" in section, f"docs/hooks.md: section {name} lacks versionadded"
    assert "**When:**" in section and "**Returns:**" in section
    assert "versionadded" in (spec.__doc__ or ""), f"{name} docstring lacks versionadded"


def test_no_stale_hook_in_the_docs():
    existing = {name for name, _ in spec_functions()}
    stale = set(sections()) - existing
    assert not stale, f"docs/hooks.md documents hooks that do not exist: {sorted(stale)}"


def test_assert_hookimpls_match_specs_catches_mistakes():
    from segur_core import hookimpl

    class Good:
        @hookimpl
        def on_card_read(self, reading):
            pass

    class UnknownHook:
        @hookimpl
        def on_card_eaten(self, reading):
            pass

    class WrongArgument:
        @hookimpl
        def on_card_read(self, card):
            pass

    class ForgotMarker:
        def on_card_read(self, reading):
            pass

    assert_hookimpls_match_specs(Good())
    with pytest.raises(AssertionError, match="on_card_eaten: no such hook"):
        assert_hookimpls_match_specs(UnknownHook())
    with pytest.raises(AssertionError, match="card"):
        assert_hookimpls_match_specs(WrongArgument())
    with pytest.raises(AssertionError, match="lacks @hookimpl"):
        assert_hookimpls_match_specs(ForgotMarker())
