"""The curl and JavaScript examples of docs/service.md, run against a real service."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from segur_core.secrets import Secret
from segur_core.serve import ServeSettings

from .conftest import TOKEN

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"
KIT = Path(__file__).resolve().parents[3] / "shared" / "cisis" / "TestContenuCDA-3-0"


def blocks() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    return dict(re.findall(r'```(?:sh|js) title="([^"]+)"\n(.*?)```', text, flags=re.DOTALL))


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing: .ci/run installs it")
        pytest.skip(f"{name} is not installed")
    return found


@pytest.fixture
def service(served, make_segur_runtime, tmp_path):
    documents = {"schematron": False, **({"kit_path": str(KIT)} if KIT.is_dir() else {})}
    runtime = make_segur_runtime(config={"documents": documents}, mode="demo", autoload=True)
    _app, client = served(runtime=runtime, settings=ServeSettings(token=Secret(TOKEN)))
    client.wait_ready(120)
    return {**os.environ, "SEGUR_URL": client.url, "SEGUR_TOKEN": TOKEN}


def test_the_guide_has_both_examples():
    assert set(blocks()) == {"counter.sh", "counter.mjs"}


def test_the_curl_example(service, tmp_path):
    _tool("curl")
    done = subprocess.run(
        [_tool("sh"), "-c", blocks()["counter.sh"]],
        env=service, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert '"status":"ok"' in lines[0] and '"ready":true' in done.stdout
    assert '"status":"RECUP"' in done.stdout
    assert lines[-1].endswith(" 401") and '"code":"unauthenticated"' in lines[-1]


def test_the_javascript_example(service, tmp_path):
    script = tmp_path / "counter.mjs"
    script.write_text(blocks()["counter.mjs"], encoding="utf-8")
    done = subprocess.run(
        [_tool("node"), str(script)], env=service, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    first, refusal = done.stdout.strip().splitlines()
    summary = json.loads(first)
    assert summary["status"] == "QUAL"
    assert [d["state"] for d in summary["dmp"]] == ["in-dmp"]
    assert refusal.startswith("422 invalid_request:")
