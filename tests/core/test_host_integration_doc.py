"""The complete example of docs/host-integration.md works, with its own host (not the
reference host): the host passes the conformance kit run from its project directory,
the counter code goes from a card read to the DMP against the sandboxes, and the
``segur`` command, given the same host through ``SEGUR_HOST``, qualifies, validates,
feeds and lists the same patients."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "host-integration.md"
BIN = Path(sys.executable).parent
HOST = "lgo_segur:make_host"


def files_of_the_doc() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r'```python title="([^"]+)"\n(.*?)```', text, flags=re.DOTALL)
    return dict(blocks)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The editor's project directory: the guide's two files and a test segur.toml that
    names no host (``SEGUR_HOST`` does, as an operator would)."""
    files = files_of_the_doc()
    assert set(files) == {"lgo_segur.py", "counter.py"}
    for name, code in files.items():
        (tmp_path / name).write_text(code, encoding="utf-8")
    # the official schematrons of these documents are run by segur-documents' own tests;
    # here the two processes that validate would each compile them (15-45 s), so the
    # checks are the CDA schema and segur-documents' own
    (tmp_path / "segur.toml").write_text(
        '[segur]\nmode = "test"\nplugins = ["ins", "documents", "dmp"]\ndata_dir = "data"\n'
        "\n[documents]\nschematron = false\n",
        encoding="utf-8",
    )
    return tmp_path


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A command run from the project directory as the editor runs it: no PYTHONPATH,
    so that only the directory lookups segur documents find ``lgo_segur``."""
    environment = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "SEGUR_CONFIG"}}
    environment.update(env)
    proc = subprocess.run(
        args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc


def segur(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = run([str(BIN / "segur"), *args], project, SEGUR_HOST=HOST)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_the_example_host_passes_the_conformance_kit(project):
    """With the ``pytest`` command, not only ``python -m pytest`` (which puts the
    project directory on sys.path)."""
    proc = run(
        [
            str(BIN / "pytest"),
            "-v",
            "-p",
            "no:cacheprovider",
            "--pyargs",
            "hostspecs.conformance",
            f"--host-factory={HOST}",
        ],
        project,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "test_the_installed_plugins_get_what_they_need PASSED" in proc.stdout


def test_the_guide_reaches_the_dmp_with_its_own_host_and_the_cli_too(project):
    data = project / "data"
    counter = run([sys.executable, "counter.py"], project, SEGUR_HOST=HOST)
    assert counter.returncode == 0, counter.stdout[-3000:] + counter.stderr[-3000:]
    out = counter.stdout
    for line in (
        "patient: P00000001 status: RECUP",  # card read, INSi answered
        "after the identity card: QUAL",
        "shareable INS: True",
        "DMP status: in-dmp",  # fed through the outbox to the sandbox DMP
        "listed back from the DMP: True",
        "registered: P00000002 status: PROV",
        "dmp failures: 0",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    first = re.search(r"validated: (\S+)", out).group(1)

    stored = json.loads((data / "pharmasoft.json").read_text(encoding="utf-8"))
    names = [p["identity"]["traits"]["birth_name"] for p in stored["patients"]]
    assert sorted(names) == ["ADRUN", "CORSE"]  # the card read made no duplicate
    assert not (data / "host.sqlite").exists()  # the reference host was never made

    # the operator's command line, on the same patients of the same host
    qualified = json.loads(segur(project, "ins", "qualify", "P00000002", "--json").stdout)
    assert (qualified["result"], qualified["status"]) == ("qualified", "RECUP")
    verified = json.loads(segur(project, "ins", "verify", "P00000001", "--json").stdout)
    assert verified["result"] == "confirmed"

    (project / "vaccination.json").write_text(
        json.dumps({
            "vaccine": {"cis": "68747507", "label": "VACCIN TETANIQUE PASTEUR",
                        "atc": "J07AM", "atc_label": "vaccins tétaniques"},
            "lot_number": "4456673", "administered_on": dt.date.today().isoformat(),
            "act": "BOOSTER", "dose_rank": 4,
        }),
        encoding="utf-8",
    )  # fmt: skip
    new = segur(
        project, "cda", "new", "vaccination", "--patient", "P00000001",
        "--from-json", "vaccination.json", "--validate", "--out", "second.xml",
    )  # fmt: skip
    second = re.search(r"\(id (\S+)\)", new.stdout).group(1)
    assert new.stdout.startswith("validated:")
    status = segur(project, "dmp", "status", "P00000001").stdout
    assert re.search(rf"{re.escape(first)}\s+in-dmp", status), status
    assert re.search(rf"{re.escape(second)}\s+queued", status), status

    # PharmaSoft's background service feeds the DMP; the command lists both documents
    fed = run([sys.executable, "-c", "import lgo_segur; print(lgo_segur.deliver_pending())"],
              project, SEGUR_HOST=HOST)  # fmt: skip
    assert fed.stdout.strip() == "True", fed.stdout + fed.stderr[-3000:]
    status = segur(project, "dmp", "status", "P00000001").stdout
    assert re.search(rf"{re.escape(second)}\s+in-dmp", status), status
    listed = segur(project, "dmp", "list", "P00000001").stdout
    assert first in listed and second in listed, listed
    assert not (data / "host.sqlite").exists()
