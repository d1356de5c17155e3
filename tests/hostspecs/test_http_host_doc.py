"""The HTTP host section of docs/host-integration.md is true: its segur.toml loads into
the adapter's settings, its route table is the adapter's, its curl calls get the answers
it says from the reference LGO side, and its commands run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hostspecs.http import ROUTES, TABLE, HttpHostSettings
from hostspecs.http.server import ReferenceLgo
from segur_core.config import Config

DOC = Path(__file__).resolve().parents[2] / "docs" / "host-integration.md"
SECTION = DOC.read_text(encoding="utf-8").split("## 7. An LGO not written in Python", 1)[1]


def block(title: str) -> str:
    found = re.search(rf'```\w+ title="{re.escape(title)}"\n(.*?)```', SECTION, re.DOTALL)
    assert found, f"no block {title!r} in {DOC.name}"
    return found.group(1)


def test_the_segur_toml_of_the_guide_configures_the_http_host(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LGO_SEGUR_TOKEN", "from-the-environment")
    secret = tmp_path / "segur-client-password"
    secret.write_text("p12-password\n", encoding="utf-8")
    text = block("segur.toml (HTTP host)")
    text = text.replace("/run/secrets/segur-client-password", str(secret))
    config = Config.from_dict(tomllib.loads(text))
    assert config.settings.host == "hostspecs.http:http_host"
    settings = HttpHostSettings.from_config(config)
    assert settings.token.reveal() == "from-the-environment"
    assert settings.retries == 1 and str(settings.tls.ca_bundle).endswith("lgo-ca.pem")
    assert set(config.table(TABLE)) <= {"url", "token", "deadline", "max_bytes", "retries", "tls"}


def test_the_route_table_of_the_guide_is_the_adapters() -> None:
    rows = re.findall(r"^\| `(host_\w+)` \| `(\w+) ([^`?]+)", SECTION, re.MULTILINE)
    assert sorted(rows) == sorted((r.hook, r.method, r.path) for r in ROUTES)


def test_the_curl_calls_of_the_guide(tmp_path: Path) -> None:
    if not all(Path(f"/usr/bin/{tool}").exists() for tool in ("curl", "jq")):
        if os.environ.get("CI"):
            pytest.fail("curl and jq are needed")
        pytest.skip("curl or jq is not installed")
    with ReferenceLgo(tmp_path, token="doc-token") as lgo:
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block("host-api.sh")],
            env={**os.environ, "LGO": lgo.url, "TOKEN": "doc-token"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == [
            "P000001",
            "P000001",  # the same Idempotency-Key: the first answer again
            "1",
            "null",  # one patient: a single page
            "urn:segur:host:bad-cursor",
            "urn:segur:host:not-found",
            "401",
        ]
        assert len(lgo.host.host_find_patients("ADRUN", None, None, None)) == 1


def test_the_commands_of_the_guide(tmp_path: Path) -> None:
    """The OpenAPI export, and the kit's command (one check of it here: the whole kit runs
    over HTTP in test_http_conformance.py, in this session)."""
    commands = block("check-http-host.sh").replace("\\\n", " ").strip()
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k not in {"SEGUR_HOST", "SEGUR_CONFIG"}}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands + " -q -k every_hook"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout[-3000:]
    document = json.loads((tmp_path / "host-api.json").read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1") and "/patients/search" in document["paths"]
