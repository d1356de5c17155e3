"""The counter scenario driven only over HTTP against ``segur serve``: a card read posted
by the LGO, INSi qualification, the identity-document check (QUAL), a vaccination note
built and validated, its DMP feed sent by the outbox worker inside the service, the DMP
consulted back. The LGO here is this test: it speaks HTTP to the service, and the
service calls the LGO's own host API over HTTP (the reference LGO side on its SQLite
database) for every patient, document and consent."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from segur_core.convert import unstructure
from segur_core.serve import ApiError, ServeClient

SEGUR = [sys.executable, "-c", "from segur_core.cli import main; main()"]
KIT = Path(__file__).resolve().parents[3] / "shared" / "cisis" / "TestContenuCDA-3-0"
LGO_TOKEN = "lgo-side-token"

#: The demo card's holder, a CNDA test person the INSi sandbox knows, as an LGO's own
#: card reader gives it.
READING = {
    "source": "vitale-card",
    "traits": {
        "birth_name": "ADRUN",
        "first_names": ["ZOE"],
        "sex": "F",
        "birth_date": "1975-12-31",
        "birth_place": "63220",
    },
    "nir": "275126322074974",
    "card_kind": "vitale-2",
}


@pytest.fixture
def lgo(tmp_path):
    """The LGO's own host API (the reference LGO side over its SQLite database)."""
    from hostspecs.http.server import ReferenceLgo

    (tmp_path / "lgo").mkdir()
    with ReferenceLgo(tmp_path / "lgo", token=LGO_TOKEN) as served:
        yield served


@pytest.fixture
def service(tmp_path, lgo):
    """``segur serve`` on a Unix socket, demo mode (sandboxes), its host the LGO over
    HTTP, the kit's XSD without the schematrons (compiling those is the benchmark's)."""
    config = tmp_path / "segur.toml"
    kit = f'kit_path = "{KIT}"\n' if KIT.is_dir() else ""
    config.write_text(
        '[segur]\nmode = "demo"\ndata_dir = "data"\nhost = "hostspecs.http:http_host"\n'
        f'[host]\nurl = "{lgo.url}"\ntoken = "env:LGO_TOKEN"\n'
        f"[documents]\nschematron = false\n{kit}",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [*SEGUR, "--config", str(config), "serve", "--json", "--socket", str(tmp_path / "s")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "LGO_TOKEN": LGO_TOKEN},
    )  # fmt: skip
    line = process.stdout.readline()
    if not line:
        pytest.fail(process.communicate(timeout=30)[1])
    client = ServeClient(json.loads(line)["listening"], actor="counter-1")
    yield client, process
    client.close()
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


def _quoted(document_id: str) -> str:
    return urllib.parse.quote(document_id, safe="")


def test_card_to_qual_to_document_to_dmp_only_over_http(service, lgo):
    from segur_documents.demo import demo_contents

    client, process = service
    assert client.wait_ready(60)["ready"] is True

    read = client.post("/vitale/card-reads", READING)
    assert read["dispatched"] and len(read["patients"]) == 1
    patient = read["patients"][0]
    assert (patient["status"], patient["has_ins"]) == ("RECUP", True)
    pid = patient["id"]

    checked = client.post(f"/ins/patients/{pid}/identity-check", {"document": "cni"})
    assert checked["status"] == "QUAL" and checked["ins"].count("*") > 5  # masked

    content = unstructure(demo_contents(dt.date.today())["vaccination"])
    draft = client.post(
        "/documents", {"patient_id": pid, "kind": "vaccination", "content": content}
    )
    assert draft["status"] == "draft"
    doc = _quoted(draft["id"])
    assert client.get(f"/documents/{doc}").startswith(b"<?xml")
    validated = client.post(f"/documents/{doc}/validate")
    assert (validated["status"] == "validated" and "xsd" in validated["checks"]) or not KIT.is_dir()

    deadline = time.monotonic() + 60  # the outbox worker runs inside the service
    while True:
        deliveries = client.get("/outbox", kind="dmp.iti41")["deliveries"]
        if deliveries and deliveries[0]["state"] == "delivered":
            break
        assert time.monotonic() < deadline, deliveries
        time.sleep(0.2)
    status = client.get(f"/dmp/patients/{pid}/status")
    assert status["access"]["exists"] is True
    assert [(d["id"], d["state"]) for d in status["documents"]] == [(draft["id"], "in-dmp")]

    with pytest.raises(ApiError) as refused:  # no consent recorded yet: TD0.3 refused
        client.get(f"/dmp/patients/{pid}/documents")
    assert (refused.value.status, refused.value.details["reason"]) == (403, "NO_CONSENT")
    client.post(f"/dmp/patients/{pid}/consent", {"granted": True, "note": "informed"})
    listed = client.get(f"/dmp/patients/{pid}/documents")["documents"]
    assert draft["id"] in {d["id"] for d in listed}
    assert client.get(f"/dmp/patients/{pid}/documents/{doc}").startswith(b"<?xml")
    assert client.post(f"/dmp/patients/{pid}/documents/{doc}/mask", {"masked": True})["masked"]

    # every patient, document and consent lives in the LGO's database, reached over HTTP
    kept = lgo.host.host_get_patient(pid)
    assert kept is not None and str(kept.identity.status) == "QUAL"
    assert str(lgo.host.host_get_document(draft["id"]).status) == "validated"
    assert lgo.host.host_consent(pid, "dmp-access").granted

    assert client.post("/audit/verify")["ok"] is True
    records = client.get("/audit", limit=200)["records"]
    calls = [r for r in records if r["action"] == "api.call"]
    assert {r["actor"] for r in calls} == {f"uid:{os.getuid()} (counter-1)"}
    assert {"vitaleCardRead", "insIdentityCheck", "documentsValidate", "dmpMask"} <= {
        r["details"]["operation"] for r in calls
    }

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    for identifier in ("ADRUN", "ZOE", "2751263220749"):  # nothing of the patient in logs
        assert identifier not in out + err
