"""``segur demo --serve``: the counter scenario driven over HTTP, every call shown."""

from __future__ import annotations

import json

from click.testing import CliRunner

from segur_core.cli import cli


def test_demo_over_http(tmp_path):
    config = tmp_path / "segur.toml"
    config.write_text(
        '[segur]\nplugins = ["ins", "vitale", "documents", "dmp"]\n'
        "[documents]\nschematron = false\n",  # the schematrons are the benchmark's
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["--config", str(config), "demo", "--serve", "--json", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    calls = {(c["method"], c["path"].split("/")[2]): c for c in report["calls"]}
    assert "QUAL" in calls["POST", "ins"]["summary"]
    assert "in-dmp" in calls["GET", "dmp"]["summary"] or any(
        "in-dmp" in c["summary"] for c in report["calls"]
    )
    assert report["calls"][-1]["path"] == "/v1/audit/verify"
    assert all(c["status"] == 200 for c in report["calls"])
