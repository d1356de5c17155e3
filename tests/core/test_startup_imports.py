"""`segur plugins` loads every installed plugin without importing heavy libraries.

The cold start of ``segur plugins --json`` must stay close to that of pluggy and click
alone (docs/performance.md, "CLI start-up"): the plugins' entry-point modules import
only light modules, config classes are lazy references, and attrs-based contributions
are imported inside the hooks. Run in a fresh interpreter, so that nothing imported by
the test session hides a regression. (``test_cli`` checks the same for the example
plugin alone; this one loads every installed plugin, the real case.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

#: Top-level packages that loading the plugins for `segur plugins` must not import.
DENIED = (
    "attr",
    "attrs",
    "cattrs",
    "cryptography",
    "fpdf",
    "httpx",
    "lxml",
    "rich",
    "signxml",
    "smartcard",
    "starlette",
    "uvicorn",
)

_PROBE = """
import atexit, json, sys
DENIED = set(sys.argv[1].split(","))
def report():
    loaded = sorted({name for name in sys.modules if name.split(".")[0] in DENIED})
    sys.stderr.write("\\nDENIED-IMPORTS " + json.dumps(loaded) + "\\n")
atexit.register(report)
sys.argv = ["segur", "plugins", "--json"]
from segur_core.cli import main
main()
"""


def test_listing_every_installed_plugin_imports_no_heavy_module(tmp_path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SEGUR_PLUGINS", "SEGUR_DISABLE_PLUGIN_AUTOLOAD", "SEGUR_CONFIG"}
    }
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(DENIED)],
        cwd=tmp_path,  # no segur.toml: every installed plugin, default settings
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    listed = {p["name"]: p["status"] for p in json.loads(result.stdout)["plugins"]}
    installed = {ep.name for ep in entry_points(group="segur")}
    assert installed, "no plugin installed: nothing to check"
    assert {name: listed.get(name) for name in installed} == dict.fromkeys(installed, "loaded")
    report = result.stderr.rsplit("DENIED-IMPORTS ", 1)[1]
    assert json.loads(report) == [], "imported while loading the plugins"
