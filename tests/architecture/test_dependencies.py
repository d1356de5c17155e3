"""What a pharmacy installs: the plugins without their extras pull no web server, import
without them, and a sandbox started without its extra says what to install."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from segur_core.errors import SegurError
from segur_core.sandbox import Sandbox

from .workspace import ROOT, packages, pyprojects, read, requirements

PLUGINS = ("segur-ins", "segur-vitale", "segur-documents", "segur-dmp")
SANDBOX_ONLY = {"starlette", "uvicorn"}


def production_closure(roots: tuple[str, ...]) -> set[str]:
    """Every distribution a plain ``pip install`` of ``roots`` brings (no extras), read
    from the installed distributions' metadata."""
    seen: set[str] = set()
    todo = [canonicalize_name(root) for root in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue  # a platform-specific requirement of a dependency, not installed here
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def test_the_closure_follows_extras_only_when_asked():
    # the reading itself: the dev install has the sandboxes, through the extras
    extras = metadata.distribution("segur-ins").metadata.get_all("Provides-Extra") or []
    assert {"sandbox", "datamatrix"} <= set(extras)
    assert "segur-core" in production_closure(("segur-ins",))


def test_a_production_install_of_the_plugins_pulls_no_web_server():
    closure = production_closure(PLUGINS)
    assert set(map(canonicalize_name, PLUGINS)) <= closure
    assert not closure & SANDBOX_ONLY, f"pulled without an extra: {closure & SANDBOX_ONLY}"
    # the INS datamatrix symbol's image libraries come with segur-documents[datamatrix]
    images = {"zxing-cpp", "pillow"} - production_closure(("fpdf2",))  # fpdf2 needs pillow
    assert not closure & images


@pytest.mark.parametrize("plugin", [*PLUGINS, "segur-core"])
def test_every_sandbox_extra_brings_the_web_stack(plugin):
    requires = [Requirement(r) for r in metadata.distribution(plugin).requires or []]
    sandbox = {
        canonicalize_name(r.name)
        for r in requires
        if r.marker is not None and r.marker.evaluate({"extra": "sandbox"})
    }
    if plugin == "segur-documents":
        assert not sandbox  # no sandbox: nothing to serve
    elif plugin == "segur-core":
        assert sandbox == SANDBOX_ONLY
    else:
        assert sandbox == {"segur-core"}  # segur-core[sandbox]: the bounds live once


_WITHOUT_EXTRAS = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    for blocked in ("starlette", "uvicorn", "zxingcpp", "aiosmtpd"):
        sys.modules[blocked] = None  # as if the extras were not installed
    failed = []
    for package in sys.argv[1:]:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            if info.name.startswith(("segur_core.testing", "hostspecs.conformance")):
                continue  # pytest plugins
            if package != "segur_core" and info.name.startswith(package + ".sandbox"):
                continue  # a plugin's sandbox is its extra's: imported by segur_sandboxes
            try:
                importlib.import_module(info.name)
            except Exception as exc:
                failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
    print("\\n".join(failed))
    sys.exit(1 if failed else 0)
    """
)


def test_every_module_imports_without_the_extras():
    every = [p for path in pyprojects() for p in packages(read(path))]
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS, *every],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


class _Echo(Sandbox):
    name = "echo"

    def build_app(self):
        from starlette.applications import Starlette

        return Starlette()


def test_a_sandbox_without_its_extra_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(SegurError, match="'echo' cannot start: uvicorn not installed") as caught:
        _Echo().start()
    assert "[sandbox]" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("plugin", "sandbox"), [("ins", "insi"), ("dmp", "dmp"), ("vitale", "apcv")]
)
def test_a_plugin_sandbox_without_its_extra_fails_clearly(
    make_segur_runtime, monkeypatch, plugin, sandbox
):
    runtime = make_segur_runtime(plugins=[plugin], autoload=True)
    monkeypatch.setitem(sys.modules, "starlette", None)
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(SegurError, match=f"'{sandbox}' cannot start: starlette and uvicorn"):
        runtime.sandbox(sandbox)


# -- every import is declared -----------------------------------------------------------------

#: Test helpers and pytest plugins, imported by test suites only (pytest, hypothesis).
_TEST_ONLY = ("testing", "conformance")


def _imported(package_dir: Path, own: set[str]) -> dict[str, set[str]]:
    """Third-party top-level modules imported anywhere in a package (at module level or
    inside functions), with the files importing them."""
    found: dict[str, set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        if any(
            part.removesuffix(".py") in _TEST_ONLY for part in path.relative_to(package_dir).parts
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in own and top != "__future__":
                    found.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return found


@pytest.mark.parametrize("pyproject", pyprojects(), ids=lambda path: path.parent.name)
def test_every_third_party_import_is_declared(pyproject):
    """A distribution declares what it imports (a dependency or an extra); a plugin may
    also use what segur-core declares, since it depends on segur-core."""
    project = read(pyproject)
    own = {p for path in pyprojects() for p in packages(read(path))}  # import-linter's
    allowed = requirements(project)
    if pyproject != ROOT / "pyproject.toml":
        allowed |= requirements(read(ROOT / "pyproject.toml"))
    providers = metadata.packages_distributions()
    undeclared = {}
    for package in packages(project):
        for module, files in _imported(pyproject.parent / package, own).items():
            dists = {canonicalize_name(d) for d in providers.get(module, [module])}
            if not dists & allowed:
                undeclared[module] = sorted(files)
    assert not undeclared, f"{project['project']['name']} imports undeclared {undeclared}"
